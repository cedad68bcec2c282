import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';
import { upsampleFactors } from './upsample';

/** The gradient of ResizeNearestNeighbor's exact upsampling: each k×k block of dy summed into its pixel. */
export const resizeNearestNeighborGradConfig: NativeKernelConfig = {
  kernelName: 'ResizeNearestNeighborGrad',
  kernelFunc: (args, addon) => {
    const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
    const f = upsampleFactors(
      images,
      [dy.shape[1], dy.shape[2]],
      args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs,
    );
    if (!f || dy.dtype !== 'float32') return null;
    const be = args.backend as PooledCpuBackend;
    const [b, h, w, c] = images.shape;
    const dx = be.allocOutput(b * h * w * c);
    addon.upsample(b, h, w, c, f[0], f[1], 1, values(be, dy), dx);
    return be.makeTensorInfo(images.shape, 'float32', dx);
  },
};
