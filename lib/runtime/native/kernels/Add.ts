import { binaryKernel } from './binaryOp';
import type { NativeKernelConfig } from './shared';

export const addConfig: NativeKernelConfig = { kernelName: 'Add', kernelFunc: binaryKernel(0) };
