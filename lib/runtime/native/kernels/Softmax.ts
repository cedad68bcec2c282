import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** Softmax over the last axis in one pass per row (tfjs composes it from five kernels: max, sub, exp, sum, div). */
export const softmaxConfig: NativeKernelConfig = {
  kernelName: 'Softmax',
  kernelFunc: (args, addon) => {
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
  },
};
