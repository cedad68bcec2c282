import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** Up to this k (of any row length) goes native: beyond it, inserting into the sorted buffer costs more than the cpu kernel's selection. */
const MAX_K = 256;

/**
 * The k largest values along the last axis and their indices, in tfjs's order (descending, equal values by
 * lower index). tfjs's cpu kernel builds an object per element (0.9 ms for the 16 × 784 rows of the
 * teacher's dynamic thresholding); this keeps a sorted buffer of k per row. Rows with NaN or ±∞ go to the cpu
 * kernel (its comparator orders equal infinities its own way).
 */
export const topKConfig: NativeKernelConfig = {
  kernelName: 'TopK',
  kernelFunc: (args, addon) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { k } = args.attrs as unknown as tf.TopKAttrs;
    const n = x.shape[x.shape.length - 1];
    if (x.dtype !== 'float32' || !(n > 0) || !(k >= 1) || k > n || k > MAX_K) return null;
    const be = args.backend as PooledCpuBackend;
    const xv = values(be, x);
    const rows = xv.length / n;
    const vals = be.allocOutput(rows * k);
    const idx = new Int32Array(rows * k);
    if (!addon.topk(n, k, xv, vals, idx)) return null;
    const shape = [...x.shape.slice(0, -1), k];
    return [be.makeTensorInfo(shape, 'float32', vals), be.makeTensorInfo(shape, 'int32', idx)];
  },
};
