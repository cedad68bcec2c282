import * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelFunc, values } from './shared';

/**
 * The native view of a broadcast: out as [outer, mid, inner] where the smaller operand is [outer, 1, inner]
 * (its size-1 dimensions form one contiguous block). Mode 0 same shapes, 1 b broadcasts, 2 a broadcasts;
 * null for other patterns (they fall back to the cpu kernel).
 */
export function broadcastView(a: number[], b: number[]): { mode: number; mid: number; inner: number } | null {
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
}

/** The addon's binary op (0 add, 1 sub, 2 mul, 3 div) on float32 operands whose broadcast it can view. */
export const binaryKernel =
  (op: number): NativeKernelFunc =>
  (args, addon) => {
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
