import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, denoiseChecked } from '../denoiser';
import { dynamicThreshold } from './dynamicThreshold';
import { integrate, type Solver } from './integrate';

export interface DpmppOptions {
  /** Highest multistep order, 1–3 (default 3: DPM-Solver++(3M), SFD's recommended teacher). */
  order?: number;
  /** Use lower orders on the final steps (last step 1st order, the one before 2nd). Default true. */
  lowerOrderFinal?: boolean;
  /** Dynamic thresholding of each x0 prediction before it enters the history (official teacher quirk). */
  threshold?: boolean;
  /**
   * Weight of the second-derivative term of the 3rd-order update. 'official' (default) is the formula of
   * DPM-Solver++ / k-diffusion / the SFD code (−φ3·D2), whose D2 ≈ ½h²·x0'' makes the update only 2nd-order
   * accurate globally (measured in the tests); 'taylor' uses −2φ3·D2, the exact Taylor weight (3rd order).
   */
  thirdOrder?: 'official' | 'taylor';
}

/** Past x0 predictions (`denoised`) at their times, newest first. */
export interface DpmppHistory {
  denoised: tf.Tensor[];
  ts: number[];
}

export function checkDpmppOrder(order: number): void {
  if (!Number.isInteger(order) || order < 1 || order > 3) {
    throw new RangeError(`dpmpp: order must be an integer in 1..3, got ${order}`);
  }
}

/** The order used at step i of an n-point grid (official schedule, incl. lower-order final steps). */
export function dpmppStepOrder(i: number, n: number, maxOrder: number, lowerOrderFinal: boolean): number {
  if (!lowerOrderFinal || i + 1 < maxOrder) return Math.min(maxOrder, i + 1);
  return Math.min(maxOrder, n - (i + 1));
}

/**
 * One multistep DPM-Solver++ step (data prediction, λ = −log t) from t to tNext of the given order
 * (≤ |history| + 1). Takes ownership of `history` and returns it updated (≤ 2 past entries kept).
 */
export function dpmppStep(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  tNext: number,
  history: DpmppHistory,
  order: number,
  opts: { threshold?: boolean; thirdOrder?: 'official' | 'taylor'; cond?: Conditioning } = {},
): { x: tf.Tensor; history: DpmppHistory } {
  checkDpmppOrder(order);
  const m0 = tf.tidy(() => {
    const raw = denoiseChecked(denoise, x, t, opts.cond);
    return opts.threshold ? dynamicThreshold(raw) : raw;
  });
  const ms = [m0, ...history.denoised];
  const ss = [t, ...history.ts];
  const k = Math.min(order, ms.length);
  const next = tf.tidy(() => {
    const h = Math.log(t / tNext);
    const phi1 = Math.expm1(-h); // = tNext/t − 1
    const base = x.mul(tNext / t).sub(ms[0].mul(phi1));
    if (k === 1) return base;
    const r0 = Math.log(ss[1] / ss[0]) / h;
    const d10 = ms[0].sub(ms[1]).div(r0);
    if (k === 2) return base.sub(d10.mul(0.5 * phi1));
    const r1 = Math.log(ss[2] / ss[1]) / h;
    const d11 = ms[1].sub(ms[2]).div(r1);
    const d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
    const d2 = d10.sub(d11).div(r0 + r1);
    const phi2 = phi1 / h + 1;
    const phi3 = phi2 / h - 0.5;
    const w2 = opts.thirdOrder === 'taylor' ? 2 : 1;
    return base.add(d1.mul(phi2)).sub(d2.mul(w2 * phi3));
  });
  tf.dispose(ms.slice(2));
  return { x: next, history: { denoised: ms.slice(0, 2), ts: ss.slice(0, 2) } };
}

/** Multistep DPM-Solver++ (Lu et al. 2022), orders 1–3: one denoiser call per step. */
export const dpmpp: Solver<DpmppOptions> = (denoise, x, ts, opts = {}) => {
  const maxOrder = opts.order ?? 3;
  checkDpmppOrder(maxOrder);
  const lowerOrderFinal = opts.lowerOrderFinal ?? true;
  let history: DpmppHistory = { denoised: [], ts: [] };
  return integrate(x, ts, opts, {
    step: (xi, i) => {
      const order = dpmppStepOrder(i, ts.length, maxOrder, lowerOrderFinal);
      const r = dpmppStep(denoise, xi, ts[i], ts[i + 1], history, order, opts);
      history = r.history;
      return r.x;
    },
    dispose: () => tf.dispose(history.denoised),
  });
};
