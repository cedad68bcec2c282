import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, direction } from '../denoiser';
import { integrate, type Solver } from './integrate';

export interface Dpm2Options {
  /** Position of the intermediate time in log t: t_mid = tNext^r · t^(1−r) (0.5 = geometric midpoint). */
  r?: number;
}

/** One DPM-Solver-2 step: Euler to t_mid, then a step mixing the directions at t and t_mid. */
export function dpm2Step(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  tNext: number,
  r = 0.5,
  cond?: Conditioning,
): tf.Tensor {
  if (!(r > 0 && r <= 1)) throw new RangeError(`dpm2: r must be in (0, 1], got ${r}`);
  return tf.tidy(() => {
    const tMid = tNext ** r * t ** (1 - r);
    const d = direction(denoise, x, t, cond);
    const xMid = x.add(d.mul(tMid - t));
    const dMid = direction(denoise, xMid, tMid, cond);
    const w = 1 / (2 * r);
    return x.add(
      dMid
        .mul(w)
        .add(d.mul(1 - w))
        .mul(tNext - t),
    );
  });
}

/** DPM-Solver-2 (Lu et al. 2022) in EDM form: two denoiser calls per step. */
export const dpm2: Solver<Dpm2Options> = (denoise, x, ts, opts = {}) =>
  integrate(x, ts, opts, {
    step: (xi, i) => dpm2Step(denoise, xi, ts[i], ts[i + 1], opts.r ?? 0.5, opts.cond),
  });
