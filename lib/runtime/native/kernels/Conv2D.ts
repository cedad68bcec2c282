import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon';
import type { PooledCpuBackend } from '../pooledBackend';
import {
  type Args,
  biasAndActivation,
  contentId,
  geometry,
  isF32,
  type NativeKernelConfig,
  perChannel,
  values,
} from './shared';

/**
 * An NHWC float32 convolution through the addon (oneDNN), with FusedConv2D's per-channel bias and its
 * activations when `bias` is set (prelu and other biases go to the cpu kernel).
 */
export function conv2dNative(args: Args, addon: NativeAddon, bias: boolean): tf.TensorInfo | null {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const a = args.attrs as unknown as tf.Conv2DAttrs & tf.FusedConv2DAttrs;
  const b = args.backend as PooledCpuBackend;
  const biasT = bias ? (args.inputs as { bias?: tf.TensorInfo }).bias : undefined;
  if (a.dataFormat !== 'NHWC' || !isF32(x, filter, biasT) || (bias && a.activation === 'prelu')) return null;
  if (biasT && !perChannel(biasT, filter.shape[3])) return null;
  const c = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  const y = b.allocOutput(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
  // the bias inside the convolution (oneDNN adds it as it writes y), then the activation
  const biasV = biasT ? values(b, biasT) : null;
  addon.conv2d(...geometry(c), 0, values(b, x), values(b, filter), y, biasV, contentId(filter));
  if (!biasAndActivation(addon, y, null, a.activation, a.leakyreluAlpha)) return null;
  return b.makeTensorInfo(c.outShape, 'float32', y);
}

export const conv2DConfig: NativeKernelConfig = {
  kernelName: 'Conv2D',
  kernelFunc: (args, addon) => conv2dNative(args, addon, false),
};
