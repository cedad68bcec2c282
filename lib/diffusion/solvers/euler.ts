import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, direction } from '../denoiser';
import { integrate, type Solver } from './integrate';

/** One Euler step of the PF-ODE, x + (tNext − t)·d(x, t). In EDM's parameterisation this is DDIM. */
export function eulerStep(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  tNext: number,
  cond?: Conditioning,
): tf.Tensor {
  return tf.tidy(() => x.add(direction(denoise, x, t, cond).mul(tNext - t)));
}

/** Euler (≡ DDIM): one denoiser call per step. */
export const euler: Solver = (denoise, x, ts, opts = {}) =>
  integrate(x, ts, opts, { step: (xi, i) => eulerStep(denoise, xi, ts[i], ts[i + 1], opts.cond) });
