import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { isF32, type NativeKernelConfig, values } from './shared';

/**
 * The sum of n same-shaped float32 tensors in one pass (the gradient of a tensor used n times), added in
 * the cpu kernel's order so the values are the same; other dtypes go to the cpu kernel.
 */
export const addNConfig: NativeKernelConfig = {
  kernelName: 'AddN',
  kernelFunc: (args, addon) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    if (inputs.length < 1 || inputs.length > 64 || !isF32(...inputs)) return null;
    const be = args.backend as PooledCpuBackend;
    const ins = inputs.map((t) => values(be, t));
    if (ins.some((v) => v.length !== ins[0].length)) return null;
    const out = be.allocOutput(ins[0].length);
    if (out.length === 0) return null;
    addon.addN(ins, out);
    return be.makeTensorInfo(inputs[0].shape, 'float32', out);
  },
};
