import type * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { groupShape } from './SfdGroupNorm';
import { type NativeKernelConfig, values } from './shared';

/** SfdGroupNorm's gradient (x, gamma, beta) as a single kernel, from the statistics of the forward pass. */
export const sfdGroupNormGradConfig: NativeKernelConfig = {
  kernelName: 'SfdGroupNormGrad',
  kernelFunc: (args, addon) => {
    const { dy, x, gamma, beta, stats } = args.inputs as Record<string, tf.TensorInfo>;
    const { groups, silu } = args.attrs as { groups: number; silu: number };
    const be = args.backend as PooledCpuBackend;
    const { b, hw, c } = groupShape(x, groups);
    const dx = be.allocOutput(b * hw * c);
    const dg = be.allocOutput(c);
    const db = be.allocOutput(c);
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
    );
    return [
      be.makeTensorInfo(x.shape, 'float32', dx),
      be.makeTensorInfo([c], 'float32', dg),
      be.makeTensorInfo([c], 'float32', db),
    ];
  },
};
