import { binaryKernel } from './binaryOp';
import type { NativeKernelConfig } from './shared';

export const multiplyConfig: NativeKernelConfig = { kernelName: 'Multiply', kernelFunc: binaryKernel(2) };
