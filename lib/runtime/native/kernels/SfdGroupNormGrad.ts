import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { groupShape, shiftShape } from './SfdGroupNorm';
import { type NativeKernelConfig, values } from './shared';

/**
 * SfdGroupNorm's gradient (x, gamma, beta, and the shift when the forward had one) as a single kernel, from
 * the statistics of the forward pass.
 */
export const sfdGroupNormGradConfig: NativeKernelConfig = {
  kernelName: 'SfdGroupNormGrad',
  kernelFunc: (args, addon) => {
    type Inputs = Record<'dy' | 'x' | 'gamma' | 'beta' | 'stats', tf.TensorInfo> & { shift?: tf.TensorInfo };
    const { dy, x, gamma, beta, stats, shift } = args.inputs as Inputs;
    const { groups, silu } = args.attrs as { groups: number; silu: number };
    const be = args.backend as PooledCpuBackend;
    const { b, hw, c } = groupShape(x, groups);
    if (shift) shiftShape(shift, b, c);
    const dx = be.allocOutput(b * hw * c);
    const dg = be.allocOutput(c);
    const db = be.allocOutput(c);
    const dshift = shift ? be.allocOutput(b * c) : null;
    addon.groupnormGrad(
      b,
      hw,
      c,
      groups,
      values(be, dy),
      values(be, x),
      values(be, gamma),
      values(be, beta),
      values(be, stats),
      dx,
      dg,
      db,
      silu ? 1 : 0,
      shift ? values(be, shift) : null,
      dshift,
    );
    const grads = [
      be.makeTensorInfo(x.shape, 'float32', dx),
      be.makeTensorInfo([c], 'float32', dg),
      be.makeTensorInfo([c], 'float32', db),
    ];
    return dshift ? [...grads, be.makeTensorInfo([b, c], 'float32', dshift)] : grads;
  },
};
