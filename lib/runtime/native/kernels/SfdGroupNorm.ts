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

/** Throws unless a GroupNorm's shift is [b, c] for x [b, h, w, c]. */
export function shiftShape(shift: tf.TensorInfo, b: number, c: number) {
  if (shift.shape.length !== 2 || shift.shape[0] !== b || shift.shape[1] !== c)
    throw new RangeError(`GroupNorm: a shift is [${b}, ${c}] for this x, got [${shift.shape}]`);
}

/**
 * GroupNorm (optionally followed by SiLU) as a single kernel, with the per-group statistics its gradient
 * reads (see lib/models/groupNorm.ts for the op and its reference). An optional `shift` [b, c] is added to
 * x before the norm, inside the kernel.
 */
export const sfdGroupNormConfig: NativeKernelConfig = {
  kernelName: 'SfdGroupNorm',
  kernelFunc: (args, addon) => {
    const { x, gamma, beta, shift } = args.inputs as {
      x: tf.TensorInfo;
      gamma: tf.TensorInfo;
      beta: tf.TensorInfo;
      shift?: tf.TensorInfo;
    };
    const { groups, eps, silu } = args.attrs as { groups: number; eps: number; silu: number };
    const be = args.backend as PooledCpuBackend;
    const { b, hw, c } = groupShape(x, groups);
    if (shift) shiftShape(shift, b, c);
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
      shift ? values(be, shift) : null,
    );
    return [be.makeTensorInfo(x.shape, 'float32', y), be.makeTensorInfo([2, b, groups], 'float32', stats)];
  },
};
