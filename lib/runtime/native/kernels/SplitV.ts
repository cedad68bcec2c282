import * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** A float32 split into at most 16 parts along the last axis. */
export const splitVConfig: NativeKernelConfig = {
  kernelName: 'SplitV',
  kernelFunc: (args, addon) => {
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
  },
};
