import * as tf from '@tensorflow/tfjs';
import { type Conditioning, type Denoiser, direction } from '../denoiser';
import { checkGrid, integrate, type Solver } from './integrate';

/**
 * DEIS tAB (Zhang & Chen 2022) in EDM's variables, as zju-pi/diff-sampler runs it: the PF-ODE dx/dσ = d(x, σ)
 * is integrated exactly over each step with d (the VP noise prediction ε) replaced by its Lagrange interpolant
 * in VP time τ through the current and p − 1 past points:
 *   x_{i+1} = x_i + Σ_j C_ij d_{i−j},   C_ij = ∫_{σ_i}^{σ_{i+1}} ℓ_j(τ(σ)) dσ,
 * ℓ_j the Lagrange basis on τ_i, τ_{i−1}, …, τ_{i−p+1}. Step 0 is Euler; the order is min(i + 1, max order)
 * (no lower-order final steps). That Euler step limits the full solver to global order 2 asymptotically; the
 * order-p update itself has order p (test/diffusion/unipcDeis.test.ts). The registry's 'deis' is tAB3;
 * diff-sampler's "DEIS-tAB3" launch setting actually runs max_order 4 (its solvers.py default too), available
 * here as `maxOrder: 4`.
 *
 * τ(σ) is diff-sampler's `edm2t`: a VP-SDE with ᾱ(τ) = exp(−½β_d τ² − β_min τ), σ² = 1/ᾱ − 1, fixed by
 * σ(1) = 80 and σ(10⁻³) = 0.002 whatever the grid (so τ stays > 0 below σ = 0.002 too).
 *
 * The coefficients depend only on the grid and are computed once per solve. diff-sampler takes a left Riemann
 * sum of 10,000 points in τ, biased by O(1/N) and slow near σ_min, where σ(τ) has a square-root branch point
 * at τ ≈ 5.4e-4, just below τ(0.002) = 1e-3 (dσ/dτ is large there). Here the integral is taken in u = ln σ,
 * ∫ ℓ_j(τ(e^u)) e^u du, whose integrand is analytic in the strip |Im u| < π/2, by composite 10-point
 * Gauss–Legendre on panels of width ≤ ½ in u: ~1e-13 of the step or better (the tests check Σ_j C_ij =
 * σ_{i+1} − σ_i and an independent midpoint rule in τ; the official sum differs by ≤ ~1e-4 of the step).
 */
export interface DeisOptions {
  /** Highest order (number of directions combined), 1–4 (default 3: tAB3). */
  maxOrder?: number;
}

export function checkDeisOrder(maxOrder: number): void {
  if (!Number.isInteger(maxOrder) || maxOrder < 1 || maxOrder > 4) {
    throw new RangeError(`deis: maxOrder must be an integer in 1..4, got ${maxOrder}`);
  }
}

/** diff-sampler's edm2t VP-SDE: σ(1) = 80, σ(1e-3) = 0.002. */
const EPS_S = 1e-3;
const A_MAX = Math.log(80 * 80 + 1);
const A_MIN = Math.log(0.002 * 0.002 + 1);
const BETA_D = (2 * (A_MIN / EPS_S - A_MAX)) / (EPS_S - 1);
const BETA_MIN = A_MAX - 0.5 * BETA_D;

/** VP time τ of an EDM noise level σ (edm2t): the root of ½β_d τ² + β_min τ = ln(1 + σ²). */
export function vpTime(sigma: number): number {
  return (Math.sqrt(BETA_MIN * BETA_MIN + 2 * BETA_D * Math.log1p(sigma * sigma)) - BETA_MIN) / BETA_D;
}

/** EDM noise level σ of VP time τ (the inverse of vpTime). */
export function vpSigma(tau: number): number {
  return Math.sqrt(Math.expm1(0.5 * BETA_D * tau * tau + BETA_MIN * tau));
}

/** Nodes and weights of n-point Gauss–Legendre on [−1, 1] (Newton on the Legendre recurrence). */
export function gaussLegendre(n: number): { x: number[]; w: number[] } {
  const x: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < n; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k];
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x.push(z);
    w.push(2 / ((1 - z * z) * dp * dp));
  }
  return { x, w };
}

const GL10 = gaussLegendre(10);
const PANEL = 0.5;

/** ∫_{σa}^{σb} f(τ(σ)) dσ, taken in u = ln σ with composite Gauss–Legendre (signed: σb < σa gives < 0). */
function integrateInSigma(f: (tau: number) => number, sa: number, sb: number): number {
  const ua = Math.log(sa);
  const ub = Math.log(sb);
  const panels = Math.max(1, Math.ceil(Math.abs(ub - ua) / PANEL));
  const du = (ub - ua) / panels;
  let sum = 0;
  for (let k = 0; k < panels; k++) {
    const mid = ua + (k + 0.5) * du;
    for (let q = 0; q < GL10.x.length; q++) {
      const s = Math.exp(mid + 0.5 * du * GL10.x[q]);
      sum += GL10.w[q] * f(vpTime(s)) * s;
    }
  }
  return 0.5 * du * sum;
}

/** The Lagrange basis polynomial ℓ_j on the nodes `taus`, at τ. */
function lagrange(taus: readonly number[], j: number, tau: number): number {
  let v = 1;
  for (let k = 0; k < taus.length; k++) if (k !== j) v *= (tau - taus[k]) / (taus[j] - taus[k]);
  return v;
}

/**
 * The tAB coefficients C[i][j] of every step of the decreasing grid ts: step i combines the directions at
 * ts[i], ts[i−1], …, ts[i−p+1] (j = 0 the current one), p = min(i + 1, maxOrder). Order-1 steps are Euler,
 * C = [ts[i+1] − ts[i]], exactly.
 */
export function deisCoefficients(ts: readonly number[], maxOrder = 3): number[][] {
  checkGrid(ts);
  checkDeisOrder(maxOrder);
  const taus = ts.map(vpTime);
  return ts.slice(0, -1).map((t, i) => {
    const p = Math.min(i + 1, maxOrder);
    if (p === 1) return [ts[i + 1] - t];
    const nodes = taus.slice(i - p + 1, i + 1).reverse(); // τ_i, τ_{i−1}, …
    return nodes.map((_, j) => integrateInSigma((tau) => lagrange(nodes, j, tau), t, ts[i + 1]));
  });
}

/**
 * One DEIS step x + Σ_j coeffs[j]·d_{i−j}, with the order coeffs.length (≤ |history| + 1). `history` holds
 * past directions, newest first; the step takes ownership of it and returns it updated (≤ keep entries).
 */
export function deisStep(
  denoise: Denoiser,
  x: tf.Tensor,
  t: number,
  coeffs: readonly number[],
  history: tf.Tensor[],
  keep = 3,
  cond?: Conditioning,
): { x: tf.Tensor; history: tf.Tensor[] } {
  if (coeffs.length > history.length + 1)
    throw new RangeError(`deis: ${coeffs.length} coefficients need ${coeffs.length - 1} past directions`);
  const d = direction(denoise, x, t, cond);
  const ds = [d, ...history];
  const next = tf.tidy(() => coeffs.reduce((acc, c, j) => acc.add(ds[j].mul(c)), x));
  tf.dispose(ds.slice(keep));
  return { x: next, history: ds.slice(0, keep) };
}

/** DEIS tAB: one denoiser call per step, multistep in VP time with an Euler first step. */
export const deis: Solver<DeisOptions> = (denoise, x, ts, opts = {}) => {
  const maxOrder = opts.maxOrder ?? 3;
  checkDeisOrder(maxOrder);
  checkGrid(ts);
  const coeffs = deisCoefficients(ts, maxOrder);
  let history: tf.Tensor[] = [];
  return integrate(x, ts, opts, {
    step: (xi, i) => {
      const r = deisStep(denoise, xi, ts[i], coeffs[i], history, maxOrder - 1, opts.cond);
      history = r.history;
      return r.x;
    },
    dispose: () => tf.dispose(history),
  });
};
