import { type NativeKernelConfig, unaryKernel } from './shared';

/** SiLU as a single kernel (see lib/models/silu.ts). */
export const sfdSiluConfig: NativeKernelConfig = { kernelName: 'SfdSilu', kernelFunc: unaryKernel(1) };
