import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** SiLU's gradient as a single kernel (see lib/models/silu.ts). */
export const sfdSiluGradConfig: NativeKernelConfig = {
  kernelName: 'SfdSiluGrad',
  kernelFunc: (args, addon) => {
    const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    const be = args.backend as PooledCpuBackend;
    const dx = be.allocOutput(values(be, x).length);
    addon.siluGrad(values(be, dy), values(be, x), dx);
    return be.makeTensorInfo(x.shape, 'float32', dx);
  },
};
