import { matMulNative } from './BatchMatMul';
import type { NativeKernelConfig } from './shared';

export const _fusedMatMulConfig: NativeKernelConfig = {
  kernelName: '_FusedMatMul',
  kernelFunc: (args, addon) => matMulNative(args, addon, true),
};
