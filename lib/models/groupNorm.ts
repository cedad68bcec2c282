import * as tf from '@tensorflow/tfjs';
import { silu } from './silu';

/**
 * Group normalisation (Wu & He 2018) of NHWC x, plus `shift` [b, c] first when given, written with tfjs
 * ops: the reference on every backend.
 */
export function groupNormReference(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps = 1e-5,
  shift?: tf.Tensor2D,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const xs = shift ? x.add(shift.reshape([b, 1, 1, c])) : x;
    const g = xs.reshape([b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const y = g
      .sub(mean)
      .mul(tf.rsqrt(variance.add(eps)))
      .reshape(x.shape);
    return y.mul(gamma).add(beta) as tf.Tensor4D;
  });
}

/**
 * Group normalisation of NHWC x with per-channel scale and shift, followed by SiLU when `act` is 'silu'
 * (as everywhere in the UNet). `shift` [b, c], when given, is added to x first: one value per image and
 * channel, a residual block's embedding. Where the backend has the fused kernels (the native backend),
 * forward and gradient are one kernel each, activation and shift included (the shift costs no pass of its
 * own); elsewhere the op-by-op reference runs.
 */
export function groupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps = 1e-5,
  act: 'none' | 'silu' = 'none',
  shift?: tf.Tensor2D,
): tf.Tensor4D {
  const [b, , , c] = x.shape;
  if (x.rank !== 4 || c % groups !== 0)
    throw new RangeError(`groupNorm: needs NHWC with channels divisible by ${groups}, got [${x.shape}]`);
  if (shift && (shift.rank !== 2 || shift.shape[0] !== b || shift.shape[1] !== c))
    throw new RangeError(`groupNorm: a shift is [${b}, ${c}] for x [${x.shape}], got [${shift.shape}]`);
  if (!tf.getKernel('SfdGroupNorm', tf.getBackend())) {
    const y = groupNormReference(x, gamma, beta, groups, eps, shift);
    return act === 'silu' ? tf.tidy(() => silu(y)) : y;
  }
  const fusedSilu = act === 'silu' ? 1 : 0;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xi, gi, bi, si] = args as tf.Tensor[];
    const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number>) =>
      tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];
    const inputs = { x: xi, gamma: gi, beta: bi, ...(si ? { shift: si } : {}) };
    const [y, stats] = run('SfdGroupNorm', inputs, { groups, eps, silu: fusedSilu });
    save([xi, gi, bi, stats, ...(si ? [si] : [])]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, bs, stats, ss] = saved;
        const grads = { dy, x: xs, gamma: gs, beta: bs, stats, ...(ss ? { shift: ss } : {}) };
        return run('SfdGroupNormGrad', grads, { groups, silu: fusedSilu });
      },
    };
  });
  const inputs = shift ? [x, gamma, beta, shift] : [x, gamma, beta];
  return (fused as unknown as (...t: tf.Tensor[]) => tf.Tensor)(...inputs) as tf.Tensor4D;
}
