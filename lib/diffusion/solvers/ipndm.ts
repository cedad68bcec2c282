import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, direction } from '../denoiser';
import { integrate, type Solver } from './integrate';

export interface IpndmOptions {
  /** Highest Adams–Bashforth order, 1–4 (default 4). */
  maxOrder?: number;
}

/** Adams–Bashforth weights for orders 1–4, newest direction first. */
const AB_WEIGHTS = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];

export function checkIpndmOrder(maxOrder: number): void {
  if (!Number.isInteger(maxOrder) || maxOrder < 1 || maxOrder > 4) {
    throw new RangeError(`ipndm: maxOrder must be an integer in 1..4, got ${maxOrder}`);
  }
}

/**
 * One iPNDM step: Adams–Bashforth on d with the order growing as history fills (order = min(maxOrder,
 * |history| + 1)). `history` holds past directions, newest first; the step takes ownership of it and
 * returns the updated history (at most maxOrder − 1 entries), disposing what it drops.
 */
export function ipndmStep(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  tNext: number,
  history: tf.Tensor[],
  maxOrder = 4,
  cond?: Conditioning,
): { x: tf.Tensor; history: tf.Tensor[] } {
  checkIpndmOrder(maxOrder);
  const d = direction(denoise, x, t, cond);
  const ds = [d, ...history];
  const order = Math.min(maxOrder, ds.length);
  const w = AB_WEIGHTS[order - 1];
  const next = tf.tidy(() => {
    let slope = ds[0].mul(w[0]);
    for (let j = 1; j < order; j++) slope = slope.add(ds[j].mul(w[j]));
    return x.add(slope.mul(tNext - t));
  });
  tf.dispose(ds.slice(maxOrder - 1));
  return { x: next, history: ds.slice(0, maxOrder - 1) };
}

/** iPNDM: one denoiser call per step, multistep with lower-order warm-up. */
export const ipndm: Solver<IpndmOptions> = (denoise, x, ts, opts = {}) => {
  const maxOrder = opts.maxOrder ?? 4;
  checkIpndmOrder(maxOrder);
  let history: tf.Tensor[] = [];
  return integrate(x, ts, opts, {
    step: (xi, i) => {
      const r = ipndmStep(denoise, xi, ts[i], ts[i + 1], history, maxOrder, opts.cond);
      history = r.history;
      return r.x;
    },
    dispose: () => tf.dispose(history),
  });
};
