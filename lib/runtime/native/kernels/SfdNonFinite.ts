import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { isF32, type NativeKernelConfig, values } from './shared';

/** How many elements of the float32 inputs are NaN or ±∞, as a float32 scalar (lib/sfd/gradientCleaning.ts). */
export const sfdNonFiniteConfig: NativeKernelConfig = {
  kernelName: 'SfdNonFinite',
  kernelFunc: (args, addon) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    // (no cpu kernel of this name to fall back to: lib/sfd/gradientCleaning.ts calls it with float32 only)
    if (!isF32(...inputs)) throw new TypeError('SfdNonFinite: float32 inputs only');
    const be = args.backend as PooledCpuBackend;
    const n = addon.nonFinite(inputs.map((t) => values(be, t)));
    return be.makeTensorInfo([], 'float32', new Float32Array([n]));
  },
};
