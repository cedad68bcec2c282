import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import type { NativeKernelConfig } from './shared';

/**
 * The cpu backend casts int32 and bool to float32 by relabelling the same Int32Array/Uint8Array; the
 * native kernels read float32 tensors as Float32Arrays, so here the cast converts the values.
 */
export const castConfig: NativeKernelConfig = {
  kernelName: 'Cast',
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    const be = args.backend as PooledCpuBackend;
    if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return null;
    const v = be.data.get(x.dataId).values as Int32Array | Uint8Array;
    return be.makeTensorInfo(x.shape, 'float32', Float32Array.from(v));
  },
};
