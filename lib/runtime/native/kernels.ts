import type * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import { _fusedMatMulConfig } from './kernels/_FusedMatMul';
import { addConfig } from './kernels/Add';
import { addNConfig } from './kernels/AddN';
import { batchMatMulConfig } from './kernels/BatchMatMul';
import { castConfig } from './kernels/Cast';
import { concatConfig } from './kernels/Concat';
import { conv2DConfig } from './kernels/Conv2D';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput';
import { fusedConv2DConfig } from './kernels/FusedConv2D';
import { multiplyConfig } from './kernels/Multiply';
import { realDivConfig } from './kernels/RealDiv';
import { resizeNearestNeighborConfig } from './kernels/ResizeNearestNeighbor';
import { resizeNearestNeighborGradConfig } from './kernels/ResizeNearestNeighborGrad';
import { sfdAdamConfig } from './kernels/SfdAdam';
import { sfdAddScaleConfig } from './kernels/SfdAddScale';
import { sfdEmaConfig } from './kernels/SfdEma';
import { sfdGroupNormConfig } from './kernels/SfdGroupNorm';
import { sfdGroupNormGradConfig } from './kernels/SfdGroupNormGrad';
import { sfdNonFiniteConfig } from './kernels/SfdNonFinite';
import { sfdSiluConfig } from './kernels/SfdSilu';
import { sfdSiluGradConfig } from './kernels/SfdSiluGrad';
import { sigmoidConfig } from './kernels/Sigmoid';
import { softmaxConfig } from './kernels/Softmax';
import { splitVConfig } from './kernels/SplitV';
import { subConfig } from './kernels/Sub';
import { sumConfig } from './kernels/Sum';
import type { NativeKernelConfig } from './kernels/shared';
import { topKConfig } from './kernels/TopK';

export type { NativeKernelConfig, NativeKernelFunc } from './kernels/shared';

/**
 * Kernels that run natively, one per file in kernels/ (as tfjs-backend-cpu lays out its own): the GEMM-based
 * ones, and the element-wise work that dominated a training step once GEMMs were fast (profiled: Multiply,
 * Sum, Add, Sigmoid, Sub), plus the project's own fused kernels (Sfd*).
 */
export const nativeKernelConfigs: NativeKernelConfig[] = [
  castConfig,
  sfdSiluConfig,
  sfdSiluGradConfig,
  sfdAdamConfig,
  sfdAddScaleConfig,
  sfdEmaConfig,
  softmaxConfig,
  resizeNearestNeighborConfig,
  resizeNearestNeighborGradConfig,
  concatConfig,
  sfdGroupNormConfig,
  sfdGroupNormGradConfig,
  sfdNonFiniteConfig,
  splitVConfig,
  addConfig,
  addNConfig,
  subConfig,
  multiplyConfig,
  realDivConfig,
  sigmoidConfig,
  sumConfig,
  topKConfig,
  conv2DConfig,
  fusedConv2DConfig,
  batchMatMulConfig,
  _fusedMatMulConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
];

/**
 * The native kernels by name, bound to the addon: each falls back to the reference cpu kernel where it does
 * not apply (other dtypes, general broadcasting, non-contiguous reductions).
 */
export function nativeKernels(
  addon: NativeAddon,
  cpu: (name: string) => tf.KernelFunc,
): Record<string, tf.KernelFunc> {
  return Object.fromEntries(
    nativeKernelConfigs.map(({ kernelName, kernelFunc }) => [
      kernelName,
      (args: Parameters<tf.KernelFunc>[0]) => kernelFunc(args, addon) ?? cpu(kernelName)(args),
    ]),
  );
}
