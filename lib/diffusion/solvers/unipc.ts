import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, denoiseChecked } from '../denoiser';
import { dpmppStepOrder } from './dpmpp';
import { dynamicThreshold } from './dynamicThreshold';
import { integrate, type Solver } from './integrate';

/**
 * UniPC (Zhao et al. 2023), data-prediction (x0) form in EDM's t = σ, λ = −ln t, as zju-pi/diff-sampler uses it
 * (max order 3, B(h) = e^{−h} − 1 'bh2', lower-order final steps, log-SNR grid in its launch script).
 *
 * Step t_s → t, h = λ_t − λ_s. With the current x0 prediction D_s and past ones D_k (k = 1..p−1):
 *   x̃ = (t/t_s)·x + (1 − t/t_s)·D_s,   r_k = (λ_k − λ_s)/h,   Δ_k = (D_k − D_s)/r_k,
 *   g_1 = (e^{−h} − 1)/(−h) − 1,  g_{i+1} = g_i/(−h) − 1/(i+1)!,   b_i = i!·g_i/B(h),
 *   R_{ik} = r_k^{i−1} over (r_1, …, r_{p−1}, r_p = 1).
 * UniP-p (predictor):  x_t = x̃ − B·Σ_k ρᵖ_k Δ_k, ρᵖ solving the leading (p−1)×(p−1) block of R against b
 *   (p = 2: ρᵖ = ½, the paper's simplification).
 * UniC-p (corrector):  D_t = D(x_t, t); x_t ← x̃ − B·(Σ_k ρᶜ_k Δ_k + ρᶜ_p (D_t − D_s)), ρᶜ solving R against b
 *   (p = 1: ρᶜ = ½). It raises the order by one: UniPC-p is of order p + 1.
 *
 * Decisions (documented here, measured in test/diffusion/unipcDeis.test.ts):
 * - NFE = steps. D_t is evaluated at the *uncorrected* x_t and becomes the next step's D_s, so the corrector
 *   costs no call; the last step has no next step, hence no evaluation and no corrector. (diff-sampler keeps
 *   the corrector on the final warm-up step when steps < max order, one uncounted call more; we never do.)
 * - Orders: warm-up i + 1 on step i, then max order; with `lowerOrderFinal` (default, as diff-sampler) the
 *   last steps drop to the steps left, so the final step is DDIM. The schedule is DPM-Solver++'s
 *   (`dpmppStepOrder`). That order-1 final step (local error O(h²), tiny at small t) limits the full solver to
 *   global order 2 asymptotically; `lowerOrderFinal: false` keeps order 3, and the corrected order-3 update
 *   itself is of order 4.
 * - Dynamic thresholding: diff-sampler thresholds every x0 prediction in data mode; here only with
 *   `threshold: true`, as for DPM-Solver++ (the corrector's D_t too, so the history is consistent).
 */
export interface UnipcOptions {
  /** Highest order p, 1–3 (default 3). */
  order?: number;
  /** B(h): 'bh1' = −h (the original repository's default), 'bh2' = e^{−h} − 1 (default, diff-sampler's). */
  variant?: 'bh1' | 'bh2';
  /** Use lower orders on the final steps (the last one DDIM). Default true. */
  lowerOrderFinal?: boolean;
  /** Apply the corrector UniC (default true); false leaves the multistep predictor UniP alone. */
  corrector?: boolean;
  /** Dynamic thresholding of every x0 prediction (Imagen's; off by default). */
  threshold?: boolean;
}

/** Past x0 predictions at their times, newest first; denoised[0] is the prediction at the current time. */
export interface UnipcHistory {
  denoised: tf.Tensor[];
  ts: number[];
}

export function checkUnipcOrder(order: number): void {
  if (!Number.isInteger(order) || order < 1 || order > 3) {
    throw new RangeError(`unipc: order must be an integer in 1..3, got ${order}`);
  }
}

function checkVariant(variant: string): void {
  if (variant !== 'bh1' && variant !== 'bh2')
    throw new RangeError(`unipc: variant must be 'bh1' or 'bh2', got '${variant}'`);
}

/** Solves the small dense system A·y = b (Gaussian elimination with partial pivoting). */
export function solveLinear(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    if (m[c][c] === 0) throw new RangeError('solveLinear: singular matrix');
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * y[k];
    y[r] = s / m[r][r];
  }
  return y;
}

export interface UnipcCoefficients {
  /** B(h). */
  B: number;
  /** r_1..r_{p−1} (past points, negative), without the trailing r_p = 1. */
  r: number[];
  /** Predictor weights of Δ_1..Δ_{p−1}. */
  predictor: number[];
  /** Corrector weights of Δ_1..Δ_{p−1}, then of D_t − D_s. */
  corrector: number[];
}

/** UniPC's scalar coefficients for a step t → tNext of order p with past times `pastTs` (newest first). */
export function unipcCoefficients(
  t: number,
  tNext: number,
  pastTs: readonly number[],
  order: number,
  variant: 'bh1' | 'bh2' = 'bh2',
): UnipcCoefficients {
  const h = Math.log(t / tNext);
  const B = variant === 'bh1' ? -h : Math.expm1(-h);
  const r = pastTs.slice(0, order - 1).map((tk) => Math.log(t / tk) / h);
  const rs = [...r, 1];
  const b: number[] = [];
  let g = Math.expm1(-h) / -h - 1;
  let fact = 1;
  for (let i = 1; i <= order; i++) {
    b.push((g * fact) / B);
    fact *= i + 1;
    g = g / -h - 1 / fact;
  }
  const R = Array.from({ length: order }, (_, i) => rs.map((rk) => rk ** i));
  const predictor =
    order === 1
      ? []
      : order === 2
        ? [0.5]
        : solveLinear(
            R.slice(0, order - 1).map((row) => row.slice(0, order - 1)),
            b.slice(0, order - 1),
          );
  const corrector = order === 1 ? [0.5] : solveLinear(R, b);
  return { B, r, predictor, corrector };
}

/**
 * One UniPC step from t to tNext of order p (≤ |history|). Unless `final`, evaluates D_t at the predicted
 * state (one call) and, with `corrector` (default true), corrects the state with it. Takes ownership of
 * `history` and returns it updated with D_t (≤ 3 entries kept); on the final step it is returned unchanged.
 */
export function unipcStep(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  tNext: number,
  history: UnipcHistory,
  order: number,
  opts: {
    variant?: 'bh1' | 'bh2';
    corrector?: boolean;
    final?: boolean;
    threshold?: boolean;
    cond?: Conditioning;
  } = {},
): { x: tf.Tensor; history: UnipcHistory } {
  checkUnipcOrder(order);
  if (order > history.denoised.length)
    throw new RangeError(
      `unipc: order ${order} needs ${order} x0 predictions, got ${history.denoised.length}`,
    );
  const c = unipcCoefficients(t, tNext, history.ts.slice(1), order, opts.variant ?? 'bh2');
  const ms = history.denoised;
  // [x] on the final step, else [x, D_t]
  const out = tf.tidy(() => {
    const ratio = tNext / t;
    const base = x.mul(ratio).add(ms[0].mul(1 - ratio));
    const deltas = c.r.map((rk, k) => ms[k + 1].sub(ms[0]).div(rk));
    const weighted = (w: number[], extra?: tf.Tensor) =>
      deltas.reduce((acc, d, k) => acc.add(d.mul(w[k])), extra ?? tf.zerosLike(x));
    const pred = order === 1 ? base : base.sub(weighted(c.predictor).mul(c.B));
    if (opts.final) return [pred];
    const raw = denoiseChecked(denoise, pred, tNext, opts.cond);
    const dNext = opts.threshold ? dynamicThreshold(raw) : raw;
    if (opts.corrector === false) return [pred, dNext];
    const corr = weighted(c.corrector, dNext.sub(ms[0]).mul(c.corrector[order - 1]));
    return [base.sub(corr.mul(c.B)), dNext];
  });
  if (out.length === 1) return { x: out[0], history };
  const denoised = [out[1], ...ms];
  const ts = [tNext, ...history.ts];
  tf.dispose(denoised.slice(3));
  return { x: out[0], history: { denoised: denoised.slice(0, 3), ts: ts.slice(0, 3) } };
}

/** UniPC (bh2, data prediction), orders 1–3: one denoiser call per step, the corrector included. */
export const unipc: Solver<UnipcOptions> = (denoise, x, ts, opts = {}) => {
  const maxOrder = opts.order ?? 3;
  checkUnipcOrder(maxOrder);
  const variant = opts.variant ?? 'bh2';
  checkVariant(variant);
  const lowerOrderFinal = opts.lowerOrderFinal ?? true;
  let history: UnipcHistory = { denoised: [], ts: [] };
  return integrate(x, ts, opts, {
    step: (xi, i) => {
      if (i === 0) {
        const d0 = tf.tidy(() => {
          const raw = denoiseChecked(denoise, xi, ts[0], opts.cond);
          return opts.threshold ? dynamicThreshold(raw) : raw;
        });
        history = { denoised: [d0], ts: [ts[0]] };
      }
      const order = dpmppStepOrder(i, ts.length, maxOrder, lowerOrderFinal);
      const r = unipcStep(denoise, xi, ts[i], ts[i + 1], history, order, {
        variant,
        corrector: opts.corrector,
        final: i === ts.length - 2,
        threshold: opts.threshold,
        cond: opts.cond,
      });
      history = r.history;
      return r.x;
    },
    dispose: () => tf.dispose(history.denoised),
  });
};
