import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon';
import type { PooledCpuBackend } from '../pooledBackend';
import { type Args, biasAndActivation, isF32, type NativeKernelConfig, perChannel, values } from './shared';

/**
 * A float32 (batched) matrix product through sgemm, one per batch entry where one operand may broadcast
 * over the batch, with _FusedMatMul's per-channel bias and its activations when `fused` is set.
 */
export function matMulNative(args: Args, addon: NativeAddon, fused: boolean): tf.TensorInfo | null {
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
  // one native call for the whole batch; a broadcast operand has stride 0
  addon.sgemmBatch(
    ta ? 1 : 0,
    tb ? 1 : 0,
    m,
    n,
    k,
    batch,
    av,
    batchA === 1 ? 0 : m * k,
    bv,
    batchB === 1 ? 0 : k * n,
    y,
  );
  if (!biasAndActivation(addon, y, biasT ? values(be, biasT) : null, attrs.activation, attrs.leakyreluAlpha))
    return null;
  return be.makeTensorInfo([...outer, m, n], 'float32', y);
}

export const batchMatMulConfig: NativeKernelConfig = {
  kernelName: 'BatchMatMul',
  kernelFunc: (args, addon) => matMulNative(args, addon, false),
};
