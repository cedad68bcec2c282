import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';
import { upsampleFactors } from './upsample';

/** A nearest-neighbour resize that is an exact power-of-two upsampling: each pixel copied into a k×k block. */
export const resizeNearestNeighborConfig: NativeKernelConfig = {
  kernelName: 'ResizeNearestNeighbor',
  kernelFunc: (args, addon) => {
    const { images } = args.inputs as { images: tf.TensorInfo };
    const { size } = args.attrs as unknown as tf.ResizeNearestNeighborAttrs;
    const f = upsampleFactors(images, size, args.attrs as unknown as tf.ResizeNearestNeighborAttrs);
    if (!f) return null;
    const be = args.backend as PooledCpuBackend;
    const [b, h, w, c] = images.shape;
    const out = be.allocOutput(b * size[0] * size[1] * c);
    addon.upsample(b, h, w, c, f[0], f[1], 0, values(be, images), out);
    return be.makeTensorInfo([b, size[0], size[1], c], 'float32', out);
  },
};
