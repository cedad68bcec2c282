import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

const values = (b: MathBackendCPU, t: tf.TensorInfo) => b.data.get(t.dataId).values as Float32Array;
const isF32 = (...ts: (tf.TensorInfo | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');

/** Bias (broadcast over the last axis) and the fused activations, in place; false for unsupported ones. */
function biasAndActivation(
  addon: NativeAddon,
  y: Float32Array,
  bias: Float32Array | null,
  activation: string | undefined,
  alpha: number | undefined,
): boolean {
  if (bias) addon.binary(0, 1, y, bias, y); // in place: y += bias, repeating along the last axis
  switch (activation ?? 'linear') {
    case 'linear':
      return true;
    case 'relu':
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
      return true;
    case 'relu6':
      for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i], 0), 6);
      return true;
    case 'leakyrelu':
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] *= alpha ?? 0.2;
      return true;
    case 'sigmoid':
      for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      return true;
    case 'elu':
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = Math.expm1(y[i]);
      return true;
    default:
      return false;
  }
}

function geometry(c: tf.backend_util.Conv2DInfo): number[] {
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    c.padInfo.top,
    c.padInfo.left,
  ];
}

/**
 * Kernels that run natively: the GEMM-based ones, and the element-wise work that dominated a training
 * step once GEMMs were fast (profiled: Multiply, Sum, Add, Sigmoid, Sub). Each falls back to the reference
 * cpu kernel where it does not apply (other dtypes, general broadcasting, non-contiguous reductions).
 */
export function nativeKernels(
  addon: NativeAddon,
  cpu: (name: string) => KernelFunc,
): Record<string, KernelFunc> {
  const conv = (args: Args, bias: boolean): tf.TensorInfo | null => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const a = args.attrs as unknown as tf.Conv2DAttrs & tf.FusedConv2DAttrs;
    const b = args.backend as MathBackendCPU;
    const biasT = bias ? (args.inputs as { bias?: tf.TensorInfo }).bias : undefined;
    if (a.dataFormat !== 'NHWC' || !isF32(x, filter, biasT) || (bias && a.activation === 'prelu'))
      return null;
    const c = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides,
      a.dilations,
      a.pad,
      a.dimRoundingMode,
      false,
      'channelsLast',
    );
    const y = new Float32Array(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
    addon.conv2d(...geometry(c), 0, values(b, x), values(b, filter), y);
    if (!biasAndActivation(addon, y, biasT ? values(b, biasT) : null, a.activation, a.leakyreluAlpha))
      return null;
    return b.makeTensorInfo(c.outShape, 'float32', y);
  };

  const matmul = (args: Args, fused: boolean): tf.TensorInfo | null => {
    const { a, b: bT } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as unknown as tf.BatchMatMulAttrs & tf._FusedMatMulAttrs;
    const be = args.backend as MathBackendCPU;
    const biasT = fused ? (args.inputs as { bias?: tf.TensorInfo }).bias : undefined;
    if (
      !isF32(a, bT, biasT) ||
      (fused && attrs.activation === 'prelu') ||
      a.shape.length < 2 ||
      bT.shape.length < 2
    )
      return null;
    const ta = attrs.transposeA;
    const tb = attrs.transposeB;
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = bT.shape.slice(-2);
    const [m, k] = ta ? [ac, ar] : [ar, ac];
    const [k2, n] = tb ? [bc, br] : [br, bc];
    if (k !== k2) return null;
    const outerA = a.shape.slice(0, -2);
    const outerB = bT.shape.slice(0, -2);
    const batchA = outerA.reduce((p, q) => p * q, 1);
    const batchB = outerB.reduce((p, q) => p * q, 1);
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = Math.max(batchA, batchB);
    const av = values(be, a);
    const bv = values(be, bT);
    const y = new Float32Array(batch * m * n);
    for (let i = 0; i < batch; i++) {
      const A = av.subarray((batchA === 1 ? 0 : i) * m * k, ((batchA === 1 ? 0 : i) + 1) * m * k);
      const B = bv.subarray((batchB === 1 ? 0 : i) * k * n, ((batchB === 1 ? 0 : i) + 1) * k * n);
      addon.sgemm(
        ta ? 1 : 0,
        tb ? 1 : 0,
        m,
        n,
        k,
        1,
        A,
        ta ? m : k,
        B,
        tb ? k : n,
        0,
        y.subarray(i * m * n, (i + 1) * m * n),
        n,
      );
    }
    if (
      !biasAndActivation(addon, y, biasT ? values(be, biasT) : null, attrs.activation, attrs.leakyreluAlpha)
    )
      return null;
    return be.makeTensorInfo([...outer, m, n], 'float32', y);
  };

  /** How b (or a) repeats inside the output: 0 same shape, 1 b repeats, 2 a repeats, null otherwise. */
  const repeatMode = (a: number[], b: number[]): number | null => {
    const out = tf.broadcast_util.assertAndGetBroadcastShape(a, b);
    const same = (x: number[]) => x.length === out.length && x.every((d, i) => d === out[i]);
    const trailing = (x: number[]) => {
      const core = x.slice(x.findIndex((d) => d !== 1) === -1 ? x.length : x.findIndex((d) => d !== 1));
      return core.every((d, i) => d === out[out.length - core.length + i]);
    };
    if (same(a) && same(b)) return 0;
    if (same(a) && trailing(b)) return 1;
    if (same(b) && trailing(a)) return 2;
    return null;
  };

  const binary =
    (op: number) =>
    (args: Args): tf.TensorInfo | null => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const be = args.backend as MathBackendCPU;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
      const mode = repeatMode(a.shape, b.shape);
      if (mode === null) return null;
      const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = new Float32Array(shape.reduce((p, q) => p * q, 1));
      if (out.length === 0) return null;
      addon.binary(op, mode, values(be, a), values(be, b), out);
      return be.makeTensorInfo(shape, 'float32', out);
    };

  const sum = (args: Args): tf.TensorInfo | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const be = args.backend as MathBackendCPU;
    if (x.dtype !== 'float32' || x.shape.length === 0) return null;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const r = x.shape.length;
    const prefix = axes.every((ax, i) => ax === i);
    const suffix = axes.every((ax, i) => ax === r - axes.length + i);
    if (axes.length === 0 || !(prefix || suffix)) return null;
    const reduced = axes.reduce((p, ax) => p * x.shape[ax], 1);
    const kept = x.shape.filter((_, i) => !axes.includes(i));
    const keptSize = kept.reduce((p, q) => p * q, 1);
    if (reduced * keptSize === 0) return null;
    const out = new Float32Array(keptSize);
    if (prefix) addon.sum(0, reduced, keptSize, values(be, x), out);
    else addon.sum(1, keptSize, reduced, values(be, x), out);
    return be.makeTensorInfo(
      keepDims ? tf.backend_util.expandShapeToKeepDim(kept, axes) : kept,
      'float32',
      out,
    );
  };

  const sigmoid = (args: Args): tf.TensorInfo | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const be = args.backend as MathBackendCPU;
    if (x.dtype !== 'float32') return null;
    const out = new Float32Array(values(be, x).length);
    addon.unary(0, values(be, x), out);
    return be.makeTensorInfo(x.shape, 'float32', out);
  };

  const withFallback =
    (name: string, f: (args: Args) => tf.TensorInfo | null): KernelFunc =>
    (args) =>
      f(args) ?? cpu(name)(args);

  return {
    Add: withFallback('Add', binary(0)),
    Sub: withFallback('Sub', binary(1)),
    Multiply: withFallback('Multiply', binary(2)),
    RealDiv: withFallback('RealDiv', binary(3)),
    Sigmoid: withFallback('Sigmoid', sigmoid),
    Sum: withFallback('Sum', sum),
    Conv2D: withFallback('Conv2D', (args) => conv(args, false)),
    FusedConv2D: withFallback('FusedConv2D', (args) => conv(args, true)),
    BatchMatMul: withFallback('BatchMatMul', (args) => matmul(args, false)),
    _FusedMatMul: withFallback('_FusedMatMul', (args) => matmul(args, true)),
    Conv2DBackpropInput: withFallback('Conv2DBackpropInput', (args) => {
      const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
      const b = args.backend as MathBackendCPU;
      if (a.dataFormat !== 'NHWC' || !isF32(dy, filter)) return null;
      const shape = a.inputShape as [number, number, number, number];
      const c = tf.backend_util.computeConv2DInfo(
        shape,
        filter.shape as [number, number, number, number],
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      const dx = new Float32Array(shape.reduce((p, q) => p * q, 1));
      addon.conv2d(...geometry(c), 1, values(b, dy), values(b, filter), dx);
      return b.makeTensorInfo(shape, 'float32', dx);
    }),
    Conv2DBackpropFilter: withFallback('Conv2DBackpropFilter', (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      const b = args.backend as MathBackendCPU;
      if (a.dataFormat !== 'NHWC' || !isF32(x, dy)) return null;
      const c = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      const dw = new Float32Array(a.filterShape.reduce((p, q) => p * q, 1));
      addon.conv2d(...geometry(c), 2, values(b, x), values(b, dy), dw);
      return b.makeTensorInfo(a.filterShape, 'float32', dw);
    }),
  };
}
