import type * as tf from '@tensorflow/tfjs';
import { type NativeKernelConfig, unaryKernel } from './shared';

const sigmoid = unaryKernel(0);

export const sigmoidConfig: NativeKernelConfig = {
  kernelName: 'Sigmoid',
  kernelFunc: (args, addon) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return null;
    return sigmoid(args, addon);
  },
};
