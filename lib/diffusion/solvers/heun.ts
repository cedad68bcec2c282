import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, direction } from '../denoiser';
import { integrate, type Solver } from './integrate';

/** EDM's Heun step: Euler predictor, then the trapezoidal corrector (applied on every step, the last too). */
export function heunStep(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  tNext: number,
  cond?: Conditioning,
): tf.Tensor {
  return tf.tidy(() => {
    const h = tNext - t;
    const d = direction(denoise, x, t, cond);
    const xPred = x.add(d.mul(h));
    const dNext = direction(denoise, xPred, tNext, cond);
    return x.add(d.add(dNext).mul(h / 2));
  });
}

/** Heun's 2nd-order method: two denoiser calls per step. */
export const heun: Solver = (denoise, x, ts, opts = {}) =>
  integrate(x, ts, opts, { step: (xi, i) => heunStep(denoise, xi, ts[i], ts[i + 1], opts.cond) });
