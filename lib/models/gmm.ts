import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import type { Rng } from '../util/rng';

/** A mixture of isotropic Gaussians in any dimension: Σ_k w_k N(means[k], stds[k]²·I). */
export interface Gmm {
  weights: number[];
  means: number[][];
  stds: number[];
}

/** Throws unless the mixture is well formed; returns its dimension. */
export function checkGmm(g: Gmm): number {
  const k = g.weights.length;
  if (k === 0 || g.means.length !== k || g.stds.length !== k) {
    throw new RangeError(
      `GMM needs as many weights, means and stds (got ${k}, ${g.means.length}, ${g.stds.length})`,
    );
  }
  const dim = g.means[0].length;
  if (g.means.some((m) => m.length !== dim))
    throw new RangeError('GMM means must all have the same dimension');
  if (dim === 0) throw new RangeError('GMM means must have at least one coordinate');
  if (
    g.weights.some((w) => !(w > 0) || !Number.isFinite(w)) ||
    g.stds.some((s) => !(s > 0) || !Number.isFinite(s))
  ) {
    throw new RangeError('GMM weights and stds must be finite and > 0');
  }
  if (g.means.some((m) => m.some((v) => !Number.isFinite(v))))
    throw new RangeError('GMM means must be finite');
  return dim;
}

/**
 * The exact denoiser of a GMM: with v_k = s_k² + t² and responsibilities r_k(x) ∝ w_k N(x; μ_k, v_k I),
 * D(x, t) = Σ_k r_k [μ_k + (s_k²/v_k)(x − μ_k)]. Input is [batch, dim].
 */
export function gmmDenoiser(g: Gmm): Denoiser {
  const dim = checkGmm(g);
  const wsum = g.weights.reduce((a, b) => a + b, 0);
  const logW = g.weights.map((w) => Math.log(w / wsum));
  const s2 = g.stds.map((s) => s * s);
  return (x, t) => {
    if (x.rank !== 2 || x.shape[1] !== dim)
      throw new RangeError(`GMM denoiser expects [batch, ${dim}], got [${x.shape}]`);
    return tf.tidy(() => {
      const means = tf.tensor2d(g.means); // [K, dim], per call so the denoiser owns no tensor
      const v = s2.map((s) => s + t * t);
      const sq = x.expandDims(1).sub(means.expandDims(0)).square().sum(-1); // [B, K]
      const logp = sq
        .mul(tf.tensor1d(v.map((vk) => -0.5 / vk)))
        .add(tf.tensor1d(v.map((vk, k) => logW[k] - 0.5 * dim * Math.log(2 * Math.PI * vk))));
      const r = tf.softmax(logp, -1);
      const meanPart = r.mul(tf.tensor1d(v.map((vk) => (t * t) / vk))).matMul(means);
      const xPart = r.matMul(tf.tensor2d(s2.map((s, k) => [s / v[k]]))).mul(x);
      return meanPart.add(xPart);
    });
  };
}

/** Float64 reference of the same denoiser for one point (used by the reference ODE solution). */
export function gmmDenoise64(g: Gmm, x: readonly number[], t: number): number[] {
  const k = g.weights.length;
  const logp = new Array<number>(k);
  for (let j = 0; j < k; j++) {
    const v = g.stds[j] ** 2 + t * t;
    let sq = 0;
    for (let i = 0; i < x.length; i++) sq += (x[i] - g.means[j][i]) ** 2;
    logp[j] = Math.log(g.weights[j]) - (0.5 * sq) / v - 0.5 * x.length * Math.log(v);
  }
  const mx = Math.max(...logp);
  const e = logp.map((l) => Math.exp(l - mx));
  const z = e.reduce((a, b) => a + b, 0);
  const out = new Array<number>(x.length).fill(0);
  for (let j = 0; j < k; j++) {
    const v = g.stds[j] ** 2 + t * t;
    const a = g.stds[j] ** 2 / v;
    for (let i = 0; i < x.length; i++) out[i] += (e[j] / z) * (g.means[j][i] + a * (x[i] - g.means[j][i]));
  }
  return out;
}

/**
 * The PF-ODE solution from tFrom to each time in `tTo` (decreasing), by classical RK4 in u = log t with
 * `stepsPerUnit` steps per unit of log t, in float64: a reference accurate far beyond float32 solvers.
 */
export function gmmOdeSolution(
  g: Gmm,
  xT: readonly number[],
  tFrom: number,
  tTo: readonly number[],
  stepsPerUnit = 400,
): number[][] {
  const f = (x: number[], u: number) => {
    const d = gmmDenoise64(g, x, Math.exp(u));
    return x.map((xi, i) => xi - d[i]); // dx/du = t·dx/dt = x − D
  };
  const out: number[][] = [];
  let x = [...xT];
  let u = Math.log(tFrom);
  for (const t of tTo) {
    const uEnd = Math.log(t);
    const n = Math.max(1, Math.ceil(Math.abs(uEnd - u) * stepsPerUnit));
    const h = (uEnd - u) / n;
    for (let s = 0; s < n; s++) {
      const k1 = f(x, u);
      const k2 = f(
        x.map((v, i) => v + 0.5 * h * k1[i]),
        u + 0.5 * h,
      );
      const k3 = f(
        x.map((v, i) => v + 0.5 * h * k2[i]),
        u + 0.5 * h,
      );
      const k4 = f(
        x.map((v, i) => v + h * k3[i]),
        u + h,
      );
      x = x.map((v, i) => v + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
      u += h;
    }
    u = uEnd;
    out.push([...x]);
  }
  return out;
}

/** n samples of the mixture. */
export function sampleGmm(g: Gmm, n: number, rng: Rng): number[][] {
  checkGmm(g);
  const wsum = g.weights.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, () => {
    let u = rng.uniform() * wsum;
    let k = 0;
    while (k < g.weights.length - 1 && u >= g.weights[k]) u -= g.weights[k++];
    return g.means[k].map((m) => m + g.stds[k] * rng.normal());
  });
}
