import { conv2dNative } from './Conv2D';
import type { NativeKernelConfig } from './shared';

export const fusedConv2DConfig: NativeKernelConfig = {
  kernelName: 'FusedConv2D',
  kernelFunc: (args, addon) => conv2dNative(args, addon, true),
};
