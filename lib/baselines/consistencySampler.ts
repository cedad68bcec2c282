import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from '../data/mnist';
import { SIGMA_DATA } from '../diffusion/precond';
import type { FeatureNet } from '../eval/featureNet';
import { pixelsFid } from '../eval/quickFid';
import type { UNetCard } from '../models/card';
import type { UNet } from '../models/unet';
import { makeRng } from '../util/rng';
import { type ConsistencyFn, type ConsistencyNetwork, consistencyFunction } from './consistencyModel';

/** How a consistency model samples, as its card stores it (`cd.sampling`). */
export interface CdSampling {
  /** σ points of the 1-NFE sampler: [σ_max]. */
  taus1: number[];
  /** σ points of the 2-NFE sampler: [σ_max, mid]. */
  taus2: number[];
}

export interface ConsistencySamplerOptions {
  sigmaMin: number;
  sigmaData?: number;
  /** Clamp every f output to [−1, 1] (images, as CM does by default); not for 2-D points. */
  clamp: boolean;
}

export interface ConsistencySampleOptions {
  /** Unit normals of the k − 1 re-noising steps, shaped as xT (default: drawn from `seed`). */
  noise?: tf.Tensor[];
  /** Seed of the default re-noising draws (plain-JS source; the same seed gives the same noise). */
  seed?: number;
}

/** A consistency model as a sampler: no denoiser, no ODE; each NFE is one call of f. */
export interface ConsistencySampler {
  /** The NFEs it has σ points for (1 and 2). */
  nfes: number[];
  taus(nfe: number): number[];
  /** From x_T = σ_max·z (the first τ) to a sample with `nfe` calls of f; the caller owns the result. */
  sample(xT: tf.Tensor, nfe: number, opts?: ConsistencySampleOptions): tf.Tensor;
  /** The same over explicit σ points (decreasing, the first at xT's level). */
  sampleAt(xT: tf.Tensor, taus: readonly number[], opts?: ConsistencySampleOptions): tf.Tensor;
}

/**
 * Multistep consistency sampling (CM's stochastic iterative sampler): x0 = f(x_T, τ_0), then for each
 * further τ_i, x = x0 + √(τ_i² − σ_min²)·z and x0 = f(x, τ_i). One NFE per τ.
 */
export function consistencySample(
  f: ConsistencyFn,
  xT: tf.Tensor,
  taus: readonly number[],
  o: ConsistencySamplerOptions & ConsistencySampleOptions,
): tf.Tensor {
  checkTaus(taus, o.sigmaMin);
  if (o.noise && o.noise.length !== taus.length - 1)
    throw new RangeError(
      `${taus.length} σ points need ${taus.length - 1} re-noising draws, got ${o.noise.length}`,
    );
  const rng = makeRng(o.seed ?? 0);
  const draw = () =>
    tf.tensor(
      Float32Array.from({ length: xT.size }, () => rng.normal()),
      xT.shape,
    );
  return tf.tidy(() => {
    const call = (x: tf.Tensor, tau: number) => {
      const y = f(x, tau);
      return o.clamp ? y.clipByValue(-1, 1) : y;
    };
    let x0 = call(xT, taus[0]);
    for (let i = 1; i < taus.length; i++) {
      const z = o.noise ? o.noise[i - 1] : draw();
      x0 = call(x0.add(z.mul(Math.sqrt(taus[i] * taus[i] - o.sigmaMin * o.sigmaMin))), taus[i]);
    }
    return x0;
  });
}

function checkTaus(taus: readonly number[], sigmaMin: number): void {
  if (taus.length < 1) throw new RangeError('consistency sampling needs at least one σ point');
  taus.forEach((t, i) => {
    if (!Number.isFinite(t) || !(t > sigmaMin))
      throw new RangeError(`consistency sampling: σ point ${t} must be finite and > σ_min = ${sigmaMin}`);
    if (i > 0 && !(t < taus[i - 1]))
      throw new RangeError(`consistency sampling: σ points must decrease, got ${taus.join(', ')}`);
  });
}

/** A sampler over a network and its card's σ points. */
export function consistencySampler(
  net: ConsistencyNetwork['net'],
  sampling: CdSampling,
  o: ConsistencySamplerOptions,
): ConsistencySampler {
  const f = consistencyFunction(net, { sigmaMin: o.sigmaMin, sigmaData: o.sigmaData ?? SIGMA_DATA });
  const byNfe = new Map([
    [1, sampling.taus1],
    [2, sampling.taus2],
  ]);
  for (const [nfe, taus] of byNfe) {
    if (taus.length !== nfe)
      throw new RangeError(`the ${nfe}-NFE sampler needs ${nfe} σ points, got ${taus.length}`);
    checkTaus(taus, o.sigmaMin);
  }
  const taus = (nfe: number) => {
    const t = byNfe.get(nfe);
    if (!t)
      throw new RangeError(
        `this consistency model samples at NFE 1 or 2 (sampleAt takes other σ points), not ${nfe}`,
      );
    return t;
  };
  const sampleAt = (xT: tf.Tensor, t: readonly number[], s: ConsistencySampleOptions = {}) =>
    consistencySample(f, xT, t, { ...o, ...s });
  return { nfes: [1, 2], taus, sample: (xT, nfe, s) => sampleAt(xT, taus(nfe), s), sampleAt };
}

/** The `cd` section of a consistency model's card. */
export interface CdCardSection {
  /** The run's CdConfig (only the grid is read back here). */
  config: { nGrid: number; schedule: { tMin: number; tMax: number; rho: number } };
  sampling: CdSampling;
}

/** True for a card written by consistency distillation. */
export function isConsistencyCard(card: UNetCard): boolean {
  return card.cd !== undefined;
}

/** The checked `cd` section of a card (one-line errors naming the field). */
export function consistencySection(card: UNetCard, where = 'model card'): CdCardSection {
  const cd = card.cd as Partial<CdCardSection> | undefined;
  const bad = (field: string) => new Error(`${where}: field 'cd.${field}' is missing or malformed`);
  if (!cd || typeof cd !== 'object') throw new Error(`${where} has no 'cd' section: not a consistency model`);
  const nums = (v: unknown) =>
    Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!cd.sampling || !nums(cd.sampling.taus1)) throw bad('sampling.taus1');
  if (!nums(cd.sampling.taus2)) throw bad('sampling.taus2');
  const tMin = cd.config?.schedule?.tMin;
  if (typeof tMin !== 'number' || !(tMin > 0)) throw bad('config.schedule.tMin');
  return cd as CdCardSection;
}

/** The sampler of a saved consistency model (its UNet loaded by loadUNet): σ points and σ_min from the card. */
export function consistencySamplerFromCard(card: UNetCard, model: UNet): ConsistencySampler {
  const cd = consistencySection(card);
  return consistencySampler((x, c) => model.net(x, c), cd.sampling, {
    sigmaMin: cd.config.schedule.tMin,
    clamp: true,
  });
}

/**
 * n images from a sampler at an NFE, `batch` at a time; sample i's noise (x_T and its re-noising draws)
 * depends only on (seed, i). Pixels NHWC in [−1, 1].
 */
export async function sampleConsistencyImages(
  sampler: ConsistencySampler,
  shape: [number, number, number],
  n: number,
  nfe: number,
  seed: number,
  batch = 250,
  onBatch?: (done: number, total: number) => void,
): Promise<Float32Array> {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`number of samples must be a positive integer, got ${n}`);
  const taus = sampler.taus(nfe);
  const per = shape[0] * shape[1] * shape[2];
  const pixels = new Float32Array(n * per);
  const rng = makeRng(seed);
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const z = new Float32Array(b * per);
    const extra = taus.slice(1).map(() => new Float32Array(b * per));
    for (let i = 0; i < b; i++) {
      for (let p = 0; p < per; p++) z[i * per + p] = taus[0] * rng.normal();
      for (const e of extra) for (let p = 0; p < per; p++) e[i * per + p] = rng.normal();
    }
    const xT = tf.tensor4d(z, [b, ...shape]);
    const noise = extra.map((e) => tf.tensor4d(e, [b, ...shape]));
    const out = sampler.sample(xT, nfe, { noise });
    pixels.set(await out.data(), s * per);
    tf.dispose([xT, ...noise, out]);
    onBatch?.(s + b, n);
  }
  return pixels;
}

/** FID alone of n samples against a MNIST split's reference statistics (the training curves' score). */
export async function consistencyFid(
  sampler: ConsistencySampler,
  nfe: number,
  n: number,
  seed: number,
  net: FeatureNet,
  featureNetSha256: string,
  reference: MnistSplit = 'test',
): Promise<number> {
  const pixels = await sampleConsistencyImages(sampler, [28, 28, 1], n, nfe, seed);
  return pixelsFid(pixels, n, net, featureNetSha256, reference);
}

/**
 * The 2-step sampler's middle σ by CM's rule: a ternary search over candidate σ points (sorted), on a
 * held-out score (lower is better: FID, or endpoint error on a toy), each candidate scored at most once.
 */
export async function searchMidTau(
  candidates: readonly number[],
  score: (mid: number) => Promise<number> | number,
): Promise<{ mid: number; scores: { mid: number; score: number }[] }> {
  if (candidates.length === 0) throw new RangeError('searchMidTau: no candidate σ');
  const c = [...candidates].sort((a, b) => a - b);
  const memo = new Map<number, number>();
  const at = async (i: number) => {
    if (!memo.has(i)) memo.set(i, await score(c[i]));
    return memo.get(i) as number;
  };
  let lo = 0;
  let hi = c.length - 1;
  while (hi - lo > 2) {
    const m1 = lo + Math.floor((hi - lo) / 3);
    const m2 = hi - Math.floor((hi - lo) / 3);
    if ((await at(m1)) < (await at(m2))) hi = m2 - 1;
    else lo = m1 + 1;
  }
  let best = lo;
  for (let i = lo; i <= hi; i++) if ((await at(i)) < (await at(best))) best = i;
  const scores = [...memo].sort((a, b) => a[0] - b[0]).map(([i, s]) => ({ mid: c[i], score: s }));
  return { mid: c[best], scores };
}
