import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** A residual connection (a + b)·scale (lib/models/addScale.ts). */
export const sfdAddScaleConfig: NativeKernelConfig = {
  kernelName: 'SfdAddScale',
  kernelFunc: (args, addon) => {
    const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
    const { scale } = args.attrs as unknown as { scale: number };
    const be = args.backend as PooledCpuBackend;
    const out = be.allocOutput(values(be, a).length);
    addon.addScale(scale, values(be, a), values(be, b), out);
    return be.makeTensorInfo(a.shape, 'float32', out);
  },
};
