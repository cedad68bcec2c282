import { binaryKernel } from './binaryOp';
import type { NativeKernelConfig } from './shared';

export const subConfig: NativeKernelConfig = { kernelName: 'Sub', kernelFunc: binaryKernel(1) };
