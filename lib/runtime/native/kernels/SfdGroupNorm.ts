import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** x's NHWC shape as the addon's GroupNorm takes it; throws unless its channels divide into the groups. */
export function groupShape(x: tf.TensorInfo, groups: number) {
  const [b, h, w, c] = x.shape;
  if (x.shape.length !== 4 || c % groups !== 0)
    throw new RangeError(`GroupNorm: needs NHWC with channels divisible by ${groups}, got [${x.shape}]`);
  return { b, hw: h * w, c };
}

/**
 * GroupNorm (optionally followed by SiLU) as a single kernel, with the per-group statistics its gradient
 * reads (see lib/models/groupNorm.ts for the op and its reference).
 */
export const sfdGroupNormConfig: NativeKernelConfig = {
  kernelName: 'SfdGroupNorm',
  kernelFunc: (args, addon) => {
    const { x, gamma, beta } = args.inputs as {
      x: tf.TensorInfo;
      gamma: tf.TensorInfo;
      beta: tf.TensorInfo;
    };
    const { groups, eps, silu } = args.attrs as { groups: number; eps: number; silu: number };
    const be = args.backend as PooledCpuBackend;
    const { b, hw, c } = groupShape(x, groups);
    const y = be.allocOutput(b * hw * c);
    const stats = be.allocOutput(2 * b * groups);
    addon.groupnorm(
      b,
      hw,
      c,
      groups,
      eps,
      values(be, x),
      values(be, gamma),
      values(be, beta),
      y,
      stats,
      silu ? 1 : 0,
    );
    return [be.makeTensorInfo(x.shape, 'float32', y), be.makeTensorInfo([2, b, groups], 'float32', stats)];
  },
};
