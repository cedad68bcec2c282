import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import type { PooledCpuBackend } from './pooledBackend';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

/** A bias that is one value per output channel ([C], or [1, …, C]); others go to the cpu kernel. */
const perChannel = (bias: tf.TensorInfo, channels: number) =>
  bias.shape[bias.shape.length - 1] === channels && bias.shape.slice(0, -1).every((d) => d === 1);

const values = (b: PooledCpuBackend, t: tf.TensorInfo) => b.data.get(t.dataId).values as Float32Array;
const isF32 = (...ts: (tf.TensorInfo | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');

/** Bias (broadcast over the last axis) and the fused activations, in place; false for unsupported ones. */
function biasAndActivation(
  addon: NativeAddon,
  y: Float32Array,
  bias: Float32Array | null,
  activation: string | undefined,
  alpha: number | undefined,
): boolean {
  if (bias) addon.binary(0, 1, y.length / bias.length, bias.length, y, bias, y); // in place: y += bias per channel
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
    const b = args.backend as PooledCpuBackend;
    const biasT = bias ? (args.inputs as { bias?: tf.TensorInfo }).bias : undefined;
    if (a.dataFormat !== 'NHWC' || !isF32(x, filter, biasT) || (bias && a.activation === 'prelu'))
      return null;
    if (biasT && !perChannel(biasT, filter.shape[3])) return null;
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
    const y = b.allocOutput(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
    // the bias inside the convolution (oneDNN adds it as it writes y), then the activation
    addon.conv2d(...geometry(c), 0, values(b, x), values(b, filter), y, biasT ? values(b, biasT) : null);
    if (!biasAndActivation(addon, y, null, a.activation, a.leakyreluAlpha)) return null;
    return b.makeTensorInfo(c.outShape, 'float32', y);
  };

  const matmul = (args: Args, fused: boolean): tf.TensorInfo | null => {
    const { a, b: bT } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as unknown as tf.BatchMatMulAttrs & tf._FusedMatMulAttrs;
    const be = args.backend as PooledCpuBackend;
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
    if (k !== k2 || k === 0 || m === 0 || n === 0 || (biasT && !perChannel(biasT, n))) return null;
    const outerA = a.shape.slice(0, -2);
    const outerB = bT.shape.slice(0, -2);
    const batchA = outerA.reduce((p, q) => p * q, 1);
    const batchB = outerB.reduce((p, q) => p * q, 1);
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = Math.max(batchA, batchB);
    if (outer.reduce((p, q) => p * q, 1) !== batch) return null; // e.g. [2,1] × [1,2]: a true 2-D broadcast
    const av = values(be, a);
    const bv = values(be, bT);
    const y = be.allocOutput(batch * m * n);
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

  /**
   * The native view of a broadcast: out as [outer, mid, inner] where the smaller operand is [outer, 1, inner]
   * (its size-1 dimensions form one contiguous block). Mode 0 same shapes, 1 b broadcasts, 2 a broadcasts;
   * null for other patterns (they fall back to the cpu kernel).
   */
  const broadcastView = (a: number[], b: number[]): { mode: number; mid: number; inner: number } | null => {
    const out = tf.broadcast_util.assertAndGetBroadcastShape(a, b);
    const align = (x: number[]) => [...Array(out.length - x.length).fill(1), ...x];
    const [aa, bb] = [align(a), align(b)];
    const full = (x: number[]) => x.every((d, i) => d === out[i]);
    if (full(aa) && full(bb)) return { mode: 0, mid: 1, inner: 1 };
    const view = (small: number[]) => {
      const bcast = out.map((d, i) => small[i] !== d); // dims where `small` is 1 but the output is not
      const first = bcast.indexOf(true);
      const last = bcast.lastIndexOf(true);
      if (bcast.slice(first, last + 1).some((x) => !x) || small.slice(first, last + 1).some((d) => d !== 1))
        return null;
      const prod = (x: number[]) => x.reduce((p, q) => p * q, 1);
      return { mid: prod(out.slice(first, last + 1)), inner: prod(out.slice(last + 1)) };
    };
    const vb = full(aa) ? view(bb) : null;
    if (vb) return { mode: 1, ...vb };
    const va = full(bb) ? view(aa) : null;
    return va ? { mode: 2, ...va } : null;
  };

  const binary =
    (op: number) =>
    (args: Args): tf.TensorInfo | null => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const be = args.backend as PooledCpuBackend;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
      const v = broadcastView(a.shape, b.shape);
      if (v === null) return null;
      const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = be.allocOutput(shape.reduce((p, q) => p * q, 1));
      if (out.length === 0) return null;
      addon.binary(op, v.mode, v.mid, v.inner, values(be, a), values(be, b), out);
      return be.makeTensorInfo(shape, 'float32', out);
    };

  const sum = (args: Args): tf.TensorInfo | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const be = args.backend as PooledCpuBackend;
    if (x.dtype !== 'float32' || x.shape.length === 0) return null;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    // contiguous axes only: x is then [outer, mid, inner] with mid the reduced block
    if (axes.length === 0 || axes[axes.length - 1] - axes[0] !== axes.length - 1) return null;
    const prod = (dims: number[]) => dims.reduce((p, q) => p * q, 1);
    const outer = prod(x.shape.slice(0, axes[0]));
    const mid = prod(x.shape.slice(axes[0], axes[axes.length - 1] + 1));
    const inner = prod(x.shape.slice(axes[axes.length - 1] + 1));
    const kept = x.shape.filter((_, i) => !axes.includes(i));
    if (outer * mid * inner === 0) return null;
    const out = be.allocOutput(outer * inner);
    addon.sum(outer, mid, inner, values(be, x), out);
    return be.makeTensorInfo(
      keepDims ? tf.backend_util.expandShapeToKeepDim(kept, axes) : kept,
      'float32',
      out,
    );
  };

  const sigmoid = (args: Args): tf.TensorInfo | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return null;
    return unaryKernel(0)(args);
  };

  const withFallback =
    (name: string, f: (args: Args) => tf.TensorInfo | tf.TensorInfo[] | null): KernelFunc =>
    (args) =>
      f(args) ?? cpu(name)(args);

  /**
   * Integer factors of a nearest-neighbour resize that is an exact upsampling (power-of-two factors, so
   * tfjs's floor(i · in/out) is exactly i / k), or null: such a resize copies each pixel into a k×k block.
   */
  const upsampleFactors = (
    x: tf.TensorInfo,
    size: [number, number],
    attrs: { alignCorners: boolean; halfPixelCenters: boolean },
  ): [number, number] | null => {
    if (x.dtype !== 'float32' || x.shape.length !== 4 || attrs.alignCorners || attrs.halfPixelCenters)
      return null;
    const [, h, w, c] = x.shape;
    const k = [size[0] / h, size[1] / w];
    const pow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;
    return pow2(k[0]) && pow2(k[1]) && x.shape[0] * c > 0 ? [k[0], k[1]] : null;
  };

  const groupShape = (x: tf.TensorInfo, groups: number) => {
    const [b, h, w, c] = x.shape;
    if (x.shape.length !== 4 || c % groups !== 0)
      throw new RangeError(`GroupNorm: needs NHWC with channels divisible by ${groups}, got [${x.shape}]`);
    return { b, hw: h * w, c };
  };

  const unaryKernel = (op: number) => (args: Args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const be = args.backend as PooledCpuBackend;
    const out = be.allocOutput(values(be, x).length);
    addon.unary(op, values(be, x), out);
    return be.makeTensorInfo(x.shape, 'float32', out);
  };

  return {
    // The cpu backend casts int32 and bool to float32 by relabelling the same Int32Array/Uint8Array; the
    // native kernels read float32 tensors as Float32Arrays, so here the cast converts the values.
    Cast: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { dtype } = args.attrs as unknown as tf.CastAttrs;
      const be = args.backend as PooledCpuBackend;
      if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return cpu('Cast')(args);
      const v = be.data.get(x.dataId).values as Int32Array | Uint8Array;
      return be.makeTensorInfo(x.shape, 'float32', Float32Array.from(v));
    },
    // SiLU and its gradient as single kernels (see lib/models/silu.ts).
    SfdSilu: unaryKernel(1),
    SfdSiluGrad: (args) => {
      const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const be = args.backend as PooledCpuBackend;
      const dx = be.allocOutput(values(be, x).length);
      addon.siluGrad(values(be, dy), values(be, x), dx);
      return be.makeTensorInfo(x.shape, 'float32', dx);
    },
    // Adam's update of one weight (lib/train/adam.ts): new weight, first and second moments in one pass
    SfdAdam: (args) => {
      const { p, m, v, g } = args.inputs as Record<string, tf.TensorInfo>;
      const { step, beta1, beta2, epsilon, c2 } = args.attrs as unknown as Record<string, number>;
      const be = args.backend as PooledCpuBackend;
      const n = values(be, p).length;
      const [p2, m2, v2] = [0, 1, 2].map(() => be.allocOutput(n));
      addon.adam(
        step,
        beta1,
        beta2,
        epsilon,
        c2,
        values(be, p),
        values(be, m),
        values(be, v),
        values(be, g),
        p2,
        m2,
        v2,
      );
      return [p2, m2, v2].map((a) => be.makeTensorInfo(p.shape, 'float32', a));
    },
    // a residual connection (a + b)·scale (lib/models/addScale.ts)
    SfdAddScale: (args) => {
      const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
      const { scale } = args.attrs as unknown as { scale: number };
      const be = args.backend as PooledCpuBackend;
      const out = be.allocOutput(values(be, a).length);
      addon.addScale(scale, values(be, a), values(be, b), out);
      return be.makeTensorInfo(a.shape, 'float32', out);
    },
    // an EMA update of one weight (lib/train/ema.ts) in one pass
    SfdEma: (args) => {
      const { e, p } = args.inputs as Record<string, tf.TensorInfo>;
      const { beta } = args.attrs as unknown as { beta: number };
      const be = args.backend as PooledCpuBackend;
      const out = be.allocOutput(values(be, p).length);
      addon.ema(beta, values(be, e), values(be, p), out);
      return be.makeTensorInfo(p.shape, 'float32', out);
    },
    // tfjs composes softmax from five kernels (max, sub, exp, sum, div); one pass per row here
    Softmax: withFallback('Softmax', (args) => {
      const { logits } = args.inputs as { logits: tf.TensorInfo };
      const { dim } = args.attrs as unknown as tf.SoftmaxAttrs;
      const n = logits.shape[logits.shape.length - 1];
      const last = dim === -1 || dim === logits.shape.length - 1;
      if (logits.dtype !== 'float32' || !last || !(n > 0)) return null;
      const be = args.backend as PooledCpuBackend;
      const x = values(be, logits);
      const out = be.allocOutput(x.length);
      if (out.length === 0) return null;
      addon.softmax(n, x, out);
      return be.makeTensorInfo(logits.shape, 'float32', out);
    }),
    ResizeNearestNeighbor: withFallback('ResizeNearestNeighbor', (args) => {
      const { images } = args.inputs as { images: tf.TensorInfo };
      const { size } = args.attrs as unknown as tf.ResizeNearestNeighborAttrs;
      const f = upsampleFactors(images, size, args.attrs as unknown as tf.ResizeNearestNeighborAttrs);
      if (!f) return null;
      const be = args.backend as PooledCpuBackend;
      const [b, h, w, c] = images.shape;
      const out = be.allocOutput(b * size[0] * size[1] * c);
      addon.upsample(b, h, w, c, f[0], f[1], 0, values(be, images), out);
      return be.makeTensorInfo([b, size[0], size[1], c], 'float32', out);
    }),
    ResizeNearestNeighborGrad: withFallback('ResizeNearestNeighborGrad', (args) => {
      const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
      const f = upsampleFactors(
        images,
        [dy.shape[1], dy.shape[2]],
        args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs,
      );
      if (!f || dy.dtype !== 'float32') return null;
      const be = args.backend as PooledCpuBackend;
      const [b, h, w, c] = images.shape;
      const dx = be.allocOutput(b * h * w * c);
      addon.upsample(b, h, w, c, f[0], f[1], 1, values(be, dy), dx);
      return be.makeTensorInfo(images.shape, 'float32', dx);
    }),
    Concat: withFallback('Concat', (args) => {
      const xs = args.inputs as unknown as tf.TensorInfo[];
      const { axis } = args.attrs as unknown as tf.ConcatAttrs;
      const be = args.backend as PooledCpuBackend;
      if (xs.length < 2 || xs.length > 16 || xs.some((x) => x.dtype !== 'float32' || x.shape.length < 2))
        return null;
      const r = xs[0].shape.length;
      if (tf.util.parseAxisParam(axis, xs[0].shape)[0] !== r - 1) return null; // last axis only
      const lead = xs[0].shape.slice(0, -1);
      if (xs.some((x) => x.shape.length !== r || x.shape.slice(0, -1).some((d, i) => d !== lead[i])))
        return null;
      const rows = lead.reduce((p, q) => p * q, 1);
      const width = xs.reduce((p, x) => p + x.shape[r - 1], 0);
      if (rows * width === 0) return null;
      const out = be.allocOutput(rows * width);
      addon.concatLast(
        xs.map((x) => values(be, x)),
        rows,
        out,
      );
      return be.makeTensorInfo([...lead, width], 'float32', out);
    }),
    // GroupNorm and its gradient as single kernels (see lib/models/groupNorm.ts for the op and its reference).
    SfdGroupNorm: (args) => {
      const { x, gamma, beta } = args.inputs as {
        x: tf.TensorInfo;
        gamma: tf.TensorInfo;
        beta: tf.TensorInfo;
      };
      const { groups, eps, silu } = args.attrs as { groups: number; eps: number; silu: number };
      const be = args.backend as PooledCpuBackend;
      const { b, hw, c } = groupShape(x, groups);
      const y = be.allocOutput(b * hw * c);
      const stats = be.allocOutput(2 * b * groups);
      addon.groupnorm(
        b,
        hw,
        c,
        groups,
        eps,
        values(be, x),
        values(be, gamma),
        values(be, beta),
        y,
        stats,
        silu ? 1 : 0,
      );
      return [be.makeTensorInfo(x.shape, 'float32', y), be.makeTensorInfo([2, b, groups], 'float32', stats)];
    },
    SfdGroupNormGrad: (args) => {
      const { dy, x, gamma, beta, stats } = args.inputs as Record<string, tf.TensorInfo>;
      const { groups, silu } = args.attrs as { groups: number; silu: number };
      const be = args.backend as PooledCpuBackend;
      const { b, hw, c } = groupShape(x, groups);
      const dx = be.allocOutput(b * hw * c);
      const dg = be.allocOutput(c);
      const db = be.allocOutput(c);
      addon.groupnormGrad(
        b,
        hw,
        c,
        groups,
        values(be, dy),
        values(be, x),
        values(be, gamma),
        values(be, beta),
        values(be, stats),
        dx,
        dg,
        db,
        silu ? 1 : 0,
      );
      return [
        be.makeTensorInfo(x.shape, 'float32', dx),
        be.makeTensorInfo([c], 'float32', dg),
        be.makeTensorInfo([c], 'float32', db),
      ];
    },
    SplitV: withFallback('SplitV', (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
      const be = args.backend as PooledCpuBackend;
      const ax = tf.util.parseAxisParam(axis, x.shape)[0];
      if (x.dtype !== 'float32' || ax !== x.shape.length - 1 || x.shape.length < 2) return null; // last axis only
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
      if (sizes.length > 16) return null;
      const rows = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
      if (rows === 0) return null;
      const outs = sizes.map((w) => be.allocOutput(rows * w));
      addon.splitLast(values(be, x), rows, outs);
      return sizes.map((w, i) => be.makeTensorInfo([...x.shape.slice(0, -1), w], 'float32', outs[i]));
    }),
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
      const b = args.backend as PooledCpuBackend;
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
      const dx = b.allocOutput(shape.reduce((p, q) => p * q, 1));
      addon.conv2d(...geometry(c), 1, values(b, dy), values(b, filter), dx);
      return b.makeTensorInfo(shape, 'float32', dx);
    }),
    Conv2DBackpropFilter: withFallback('Conv2DBackpropFilter', (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      const b = args.backend as PooledCpuBackend;
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
      const dw = b.allocOutput(a.filterShape.reduce((p, q) => p * q, 1));
      addon.conv2d(...geometry(c), 2, values(b, x), values(b, dy), dw);
      return b.makeTensorInfo(a.filterShape, 'float32', dw);
    }),
  };
}
