import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** An EMA update of one weight (lib/train/ema.ts) in one pass. */
export const sfdEmaConfig: NativeKernelConfig = {
  kernelName: 'SfdEma',
  kernelFunc: (args, addon) => {
    const { e, p } = args.inputs as Record<string, tf.TensorInfo>;
    const { beta } = args.attrs as unknown as { beta: number };
    const be = args.backend as PooledCpuBackend;
    const out = be.allocOutput(values(be, p).length);
    addon.ema(beta, values(be, e), values(be, p), out);
    return be.makeTensorInfo(p.shape, 'float32', out);
  },
};
