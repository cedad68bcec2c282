import * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { geometry, isF32, type NativeKernelConfig, values } from './shared';

/** A convolution's filter gradient (NHWC, float32) through the addon. */
export const conv2DBackpropFilterConfig: NativeKernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  kernelFunc: (args, addon) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const b = args.backend as PooledCpuBackend;
    if (a.dataFormat !== 'NHWC' || !isF32(x, dy)) return null;
    const c = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      'channelsLast',
    );
    const dw = b.allocOutput(a.filterShape.reduce((p, q) => p * q, 1));
    addon.conv2d(...geometry(c), 2, values(b, x), values(b, dy), dw);
    return b.makeTensorInfo(a.filterShape, 'float32', dw);
  },
};
