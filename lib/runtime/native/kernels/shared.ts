import type * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon';
import type { PooledCpuBackend } from '../pooledBackend';

/** A kernel's arguments, as tfjs passes them. */
export type Args = Parameters<tf.KernelFunc>[0];

/**
 * A native kernel: its outputs, or null where it does not apply (other dtypes, general broadcasting,
 * non-contiguous reductions…), and then the reference cpu kernel of the same name runs instead.
 */
export type NativeKernelFunc = (args: Args, addon: NativeAddon) => tf.TensorInfo | tf.TensorInfo[] | null;

/** tfjs's KernelConfig for the native backend: the kernel it replaces, and the addon-backed function. */
export interface NativeKernelConfig {
  kernelName: string;
  kernelFunc: NativeKernelFunc;
}

/** A bias that is one value per output channel ([C], or [1, …, C]); others go to the cpu kernel. */
export const perChannel = (bias: tf.TensorInfo, channels: number) =>
  bias.shape[bias.shape.length - 1] === channels && bias.shape.slice(0, -1).every((d) => d === 1);

export const values = (b: PooledCpuBackend, t: tf.TensorInfo) => b.data.get(t.dataId).values as Float32Array;
export const isF32 = (...ts: (tf.TensorInfo | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');

/** Bias (broadcast over the last axis) and the fused activations, in place; false for unsupported ones. */
export function biasAndActivation(
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

/** A convolution's geometry in the order the addon's conv2d takes it. */
export function geometry(c: tf.backend_util.Conv2DInfo): number[] {
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

const contentIds = new WeakMap<object, number>();
let lastContentId = 0;

/**
 * A number naming what a tensor holds, for native caches keyed by contents (oneDNN's reordered filters):
 * one per data id, never reused. A tensor's data does not change while it lives (a Variable's assign and
 * every Adam update make a new data id), so a cached copy under this number is never stale.
 */
export function contentId(t: tf.TensorInfo): number {
  let id = contentIds.get(t.dataId);
  if (id === undefined) {
    id = ++lastContentId;
    contentIds.set(t.dataId, id);
  }
  return id;
}

/** The addon's element-wise op on a float32 x (op 0 sigmoid, 1 SiLU). */
export const unaryKernel =
  (op: number): NativeKernelFunc =>
  (args, addon) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const be = args.backend as PooledCpuBackend;
    const out = be.allocOutput(values(be, x).length);
    addon.unary(op, values(be, x), out);
    return be.makeTensorInfo(x.shape, 'float32', out);
  };
