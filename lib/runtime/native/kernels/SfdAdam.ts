import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** Adam's update of one weight (lib/train/adam.ts): new weight, first and second moments in one pass. */
export const sfdAdamConfig: NativeKernelConfig = {
  kernelName: 'SfdAdam',
  kernelFunc: (args, addon) => {
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
};
