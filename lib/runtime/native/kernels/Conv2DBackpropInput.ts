import * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { contentId, geometry, isF32, type NativeKernelConfig, values } from './shared';

/** A convolution's input gradient (NHWC, float32) through the addon. */
export const conv2DBackpropInputConfig: NativeKernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  kernelFunc: (args, addon) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const b = args.backend as PooledCpuBackend;
    if (a.dataFormat !== 'NHWC' || !isF32(dy, filter)) return null;
    const shape = a.inputShape as [number, number, number, number];
    const c = tf.backend_util.computeConv2DInfo(
      shape,
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      'channelsLast',
    );
    const dx = b.allocOutput(shape.reduce((p, q) => p * q, 1));
    addon.conv2d(...geometry(c), 1, values(b, dy), values(b, filter), dx, null, contentId(filter));
    return b.makeTensorInfo(shape, 'float32', dx);
  },
};
