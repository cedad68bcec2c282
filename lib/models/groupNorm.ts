import * as tf from '@tensorflow/tfjs';
import { silu } from './silu';

/** Group normalisation (Wu & He 2018) of NHWC x, written with tfjs ops: the reference on every backend. */
export function groupNormReference(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps = 1e-5,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const g = x.reshape([b, h, w, groups, c / groups]);
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
 * (as everywhere in the UNet). Where the backend has the fused kernels (the native backend), forward and
 * gradient are one kernel each, activation included; elsewhere the op-by-op reference runs.
 */
export function groupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps = 1e-5,
  act: 'none' | 'silu' = 'none',
): tf.Tensor4D {
  const c = x.shape[3];
  if (x.rank !== 4 || c % groups !== 0)
    throw new RangeError(`groupNorm: needs NHWC with channels divisible by ${groups}, got [${x.shape}]`);
  if (!tf.getKernel('SfdGroupNorm', tf.getBackend())) {
    const y = groupNormReference(x, gamma, beta, groups, eps);
    return act === 'silu' ? tf.tidy(() => silu(y)) : y;
  }
  const fusedSilu = act === 'silu' ? 1 : 0;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, gi, bi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number>) =>
      tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];
    const [y, stats] = run('SfdGroupNorm', { x: xi, gamma: gi, beta: bi }, { groups, eps, silu: fusedSilu });
    save([xi, gi, bi, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        run(
          'SfdGroupNormGrad',
          { dy, x: saved[0], gamma: saved[1], beta: saved[2], stats: saved[3] },
          { groups, silu: fusedSilu },
        ),
    };
  });
  return (fused as unknown as (...t: tf.Tensor[]) => tf.Tensor)(x, gamma, beta) as tf.Tensor4D;
}
