import { binaryKernel } from './binaryOp';
import type { NativeKernelConfig } from './shared';

export const realDivConfig: NativeKernelConfig = { kernelName: 'RealDiv', kernelFunc: binaryKernel(3) };
