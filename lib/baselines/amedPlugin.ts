import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import { denoiseChecked, odeDirection } from '../diffusion/denoiser';
import { checkIpndmOrder } from '../diffusion/solvers/ipndm';
import type { AmedFactors, AmedPredict } from './amedPredictor';
import { type AmedTeacher, perSample } from './amedTeacher';

/**
 * iPNDM's Adams–Bashforth weights for orders 1–4, newest direction first: the fixed coefficients the
 * official plugin applies to both sub-steps whatever their lengths (the same table as ipndm.ts, which keeps
 * its own private; the oracle test checks the two agree).
 */
const AB_WEIGHTS = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];

/** Σ_j w_j d_j over the newest min(maxOrder, |ds|) directions (newest first). */
function abSlope(ds: tf.Tensor[], maxOrder: number): tf.Tensor {
  const w = AB_WEIGHTS[Math.min(maxOrder, ds.length) - 1];
  return w.slice(1).reduce((s, wj, j) => s.add(ds[j + 1].mul(wj)), ds[0].mul(w[0]));
}

/** Denoiser calls of AMED-Plugin on an N-point grid: two per step, less the one AFS answers analytically. */
export function amedNfe(numSteps: number, afs: boolean): number {
  if (!Number.isInteger(numSteps) || numSteps < 2)
    throw new RangeError(`AMED needs num_steps ≥ 2 grid points, got ${numSteps}`);
  return 2 * (numSteps - 1) - (afs ? 1 : 0);
}

/** Grid points N for an NFE (inverse of amedNfe): odd NFEs need AFS, even ones none. */
export function amedStepsForNfe(nfe: number, afs: boolean): number {
  const steps = (nfe + (afs ? 1 : 0)) / 2;
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(
      `AMED makes 2 calls per step: NFE must be ${afs ? 'odd with AFS' : 'even without AFS'} and ≥ ${afs ? 1 : 2}, got ${nfe}`,
    );
  return steps + 1;
}

export interface AmedStepResult {
  /** The state at tNext. */
  x: tf.Tensor;
  /** Directions newest first (≤ maxOrder − 1): d(s_n) and d(σ_n) ahead of the kept old ones. */
  history: tf.Tensor[];
  factors: AmedFactors;
}

/**
 * One AMED-Plugin iPNDM step σ_n → σ_{n+1} (official `ipndm_sampler` with a predictor): d at x_n (AFS's
 * analytic answer when `afs`, with a zero feature); the predictor's r, a, c from the feature; s_n =
 * σ_{n+1}^r σ_n^{1−r}; Adams–Bashforth to s_n; D at a·s_n (divided by s_n, not a·s_n); Adams–Bashforth to
 * σ_{n+1} scaled by c. Both directions enter the history. Pure tensors: run it inside tf.tidy (sampling) or a
 * gradient tape (training). It frees nothing: the old entries missing from the new history are the caller's.
 */
export function amedIpndmStep(
  teacher: AmedTeacher,
  predict: AmedPredict,
  x: tf.Tensor,
  t: number,
  tNext: number,
  history: readonly tf.Tensor[],
  opts: { maxOrder: number; afs: boolean },
): AmedStepResult {
  checkIpndmOrder(opts.maxOrder);
  const b = x.shape[0];
  const keep = opts.maxOrder - 1;
  const denoised = denoiseChecked(opts.afs ? withAfs(teacher.denoise, t) : teacher.denoise, x, t);
  const feature = opts.afs ? tf.zeros([b, teacher.featureDim]) : teacher.feature(x, denoised);
  const factors = predict(feature as tf.Tensor2D, t, tNext);
  const ds = [odeDirection(x, denoised, t), ...history];
  const tMid = tf.exp(factors.r.mul(Math.log(tNext / t))).mul(t) as tf.Tensor1D; // σ_{n+1}^r σ_n^{1−r}
  const xMid = x.add(perSample(tMid.sub(t) as tf.Tensor1D, x.rank).mul(abSlope(ds, opts.maxOrder)));
  const dMid = xMid.sub(teacher.denoiseEach(xMid, factors.scaleTime.mul(tMid))).div(perSample(tMid, x.rank));
  const dsMid = [dMid, ...ds.slice(0, keep)];
  const stepMid = perSample(factors.scaleDir.mul(tf.scalar(tNext).sub(tMid)) as tf.Tensor1D, x.rank);
  const xNext = xMid.add(stepMid.mul(abSlope(dsMid, opts.maxOrder)));
  return { x: xNext, history: dsMid.slice(0, keep), factors };
}

/** Frees the entries of `old` that `next` no longer holds (after an `amedIpndmStep`). */
export function dropHistory(old: readonly tf.Tensor[], next: readonly tf.Tensor[]): void {
  tf.dispose(old.filter((h) => !next.includes(h)));
}
