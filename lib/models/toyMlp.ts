import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '../diffusion/denoiser';
import { edmPrecond, edmScalings, type RawNet, SIGMA_DATA } from '../diffusion/precond';
import { Adam } from '../train/adam';
import { makeRng } from '../util/rng';
import { checkGmm, type Gmm, gmmDenoise64, sampleGmm } from './gmm';
import { silu } from './silu';

/** Architecture of the toy denoiser network for points (plain data). */
export interface ToyMlpConfig {
  /** Dimension of the points (2 for the toy mixtures). */
  dim: number;
  /** Width of each hidden layer. */
  hidden: number;
  /** Hidden layers. */
  layers: number;
  /** Width of the sinusoidal embedding of c_noise (and of the step condition); even. */
  embedDim: number;
  /** Highest angular frequency of that embedding (frequencies are geometric from 1 up to it). */
  maxFreq: number;
  /** A second conditioning input (SFD-v's step condition) whose projections start at zero. */
  stepCondition: boolean;
}

export const toyMlpDefaults: ToyMlpConfig = {
  dim: 2,
  hidden: 128,
  layers: 3,
  embedDim: 16,
  maxFreq: 16,
  stepCondition: false,
};

/** A trainable denoiser of points: an MLP F(c_in·x, c_noise[, cond]) under EDM preconditioning. */
export interface ToyMlp {
  config: ToyMlpConfig;
  /** Every trainable weight by a stable name (Adam, the SFD student, copies). */
  weights: Map<string, tf.Variable>;
  /** F(c_in·x, c_noise, cond): [batch, dim] in and out; c_noise may be one number or one per sample. */
  net: (xIn: tf.Tensor, cNoise: number | tf.Tensor1D, cond?: Conditioning) => tf.Tensor2D;
  /** D(x, t, cond) = c_skip·x + c_out·F(c_in·x, c_noise, cond) (edmPrecond with σ_data = 0.5). */
  denoise: Denoiser;
  params: number;
  dispose(): void;
}

/**
 * Builds the MLP with weights drawn from a plain-JS seeded source (He-normal matrices, zero biases; the
 * output layer and the step-condition projections zero, so F = 0 and D = c_skip·x at the start). The same
 * seed gives the same weights on every backend; the step-condition weights draw from no stream, so a
 * step-conditioned copy of a plain network is that network until it learns.
 */
export function createToyMlp(overrides: Partial<ToyMlpConfig> = {}, seed = 0): ToyMlp {
  const cfg = { ...toyMlpDefaults, ...overrides };
  for (const [k, v] of [
    ['dim', cfg.dim],
    ['hidden', cfg.hidden],
    ['layers', cfg.layers],
    ['embedDim', cfg.embedDim],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`ToyMlp: ${k} must be a positive integer, got ${v}`);
  if (cfg.embedDim % 2 !== 0) throw new RangeError(`ToyMlp: embedDim must be even, got ${cfg.embedDim}`);
  if (!(cfg.maxFreq >= 1)) throw new RangeError(`ToyMlp: maxFreq must be ≥ 1, got ${cfg.maxFreq}`);
  const rng = makeRng(seed);
  const weights = new Map<string, tf.Variable>();
  const he = (name: string, rows: number, cols: number) => {
    const std = Math.sqrt(2 / rows);
    const v = Float32Array.from({ length: rows * cols }, () => std * rng.normal());
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.tensor2d(v, [rows, cols]))),
    );
  };
  const zeros = (name: string, shape: number[]) =>
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.zeros(shape))),
    );
  const dense = (name: string, ci: number, co: number, zeroInit = false) => {
    if (zeroInit) zeros(`${name}.w`, [ci, co]);
    else he(`${name}.w`, ci, co);
    zeros(`${name}.b`, [co]);
  };
  // --- parameters, in the order the forward pass uses them
  for (let l = 0; l < cfg.layers; l++) {
    dense(`l${l}`, l === 0 ? cfg.dim + cfg.embedDim : cfg.hidden, cfg.hidden);
    if (cfg.stepCondition) zeros(`step.l${l}.w`, [cfg.embedDim, cfg.hidden]);
  }
  dense('out', cfg.hidden, cfg.dim, true);

  // --- forward pass
  const W = (name: string) => weights.get(name) as tf.Variable;
  const half = cfg.embedDim / 2;
  const freqs = Array.from({ length: half }, (_, i) => cfg.maxFreq ** (half > 1 ? i / (half - 1) : 0));
  const sinusoid = (c: tf.Tensor1D) => {
    const args = c.reshape([-1, 1]).mul(tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.cos(args), tf.sin(args)], 1);
  };
  const linear = (name: string, x: tf.Tensor) =>
    tf.fused.matMul({ a: x as tf.Tensor2D, b: W(`${name}.w`) as tf.Tensor2D, bias: W(`${name}.b`) });

  const net: ToyMlp['net'] = (xIn, cNoise, cond) =>
    tf.tidy(() => {
      if (xIn.rank !== 2 || xIn.shape[1] !== cfg.dim)
        throw new RangeError(`ToyMlp expects [batch, ${cfg.dim}], got [${xIn.shape}]`);
      const b = xIn.shape[0];
      const c = typeof cNoise === 'number' ? tf.fill([b], cNoise) : cNoise;
      if (c.shape[0] !== b) throw new RangeError(`ToyMlp: ${c.shape[0]} noise levels for a batch of ${b}`);
      let s: tf.Tensor | null = null;
      if (cfg.stepCondition) {
        // as the UNet: step-cond embeds N, tnext-cond embeds ln(t_next)/4 (the c_noise convention)
        const value = cond?.step ?? (cond?.tNext !== undefined ? Math.log(cond.tNext) / 4 : undefined);
        if (value === undefined)
          throw new RangeError(
            'ToyMlp built with stepCondition needs cond.step (SFD-v: N, the number of student timestamps) or cond.tNext',
          );
        s = sinusoid(tf.fill([b], value) as tf.Tensor1D);
      }
      let h: tf.Tensor = tf.concat([xIn, sinusoid(c as tf.Tensor1D)], 1);
      for (let l = 0; l < cfg.layers; l++) {
        let pre = linear(`l${l}`, h);
        if (s) pre = pre.add(tf.matMul(s as tf.Tensor2D, W(`step.l${l}.w`) as tf.Tensor2D));
        h = silu(pre);
      }
      return linear('out', h) as tf.Tensor2D;
    });

  const params = [...weights.values()].reduce((a, v) => a + v.size, 0);
  return {
    config: cfg,
    weights,
    net,
    denoise: edmPrecond((xIn, cNoise, cond) => net(xIn, cNoise, cond)),
    params,
    dispose: () => tf.dispose([...weights.values()]),
  };
}

/** The MLP as the raw network of edmPrecond. */
export function toyMlpRawNet(m: ToyMlp): RawNet {
  return (xIn, cNoise, cond) => m.net(xIn, cNoise, cond);
}

/**
 * An independent copy (its own variables) of a network, optionally with the step-condition path added
 * (zero projections: the copy still computes exactly what the original does).
 */
export function copyToyMlp(m: ToyMlp, overrides: Pick<Partial<ToyMlpConfig>, 'stepCondition'> = {}): ToyMlp {
  const copy = createToyMlp({ ...m.config, ...overrides }, 0);
  for (const [name, v] of copy.weights) {
    const src = m.weights.get(name);
    if (src) v.assign(src);
    else if (!name.startsWith('step.')) throw new Error(`copyToyMlp: the source lacks weight ${name}`);
  }
  return copy;
}

/** How `fitToyMlp` trains: denoising regression on the exact denoiser of a mixture. */
export interface ToyFitOptions {
  /** Adam steps. */
  steps: number;
  /** Points per step (each with its own σ). */
  batch: number;
  /** Peak learning rate; it decays linearly to `lrFinal`·lr over the run (after `warmup` steps at lr). */
  lr: number;
  lrFinal: number;
  warmup: number;
  /** ln σ ~ N(pMean, pStd²) (EDM: −1.2, 1.2), clipped to [ln sigmaMin, ln sigmaMax]. */
  pMean: number;
  pStd: number;
  /** Also draw this fraction of σ log-uniformly over [sigmaMin, sigmaMax] (the whole ODE range). */
  uniformFraction: number;
  sigmaMin: number;
  sigmaMax: number;
  seed: number;
}

export const toyFitDefaults: ToyFitOptions = {
  steps: 800,
  batch: 256,
  lr: 3e-3,
  lrFinal: 0.02,
  warmup: 0,
  pMean: -1.2,
  pStd: 1.2,
  uniformFraction: 0.25,
  sigmaMin: 0.002,
  sigmaMax: 80,
  seed: 0,
};

export interface ToyFitResult {
  /** The EDM-weighted loss of each step (mean over the batch of λ(σ)·‖D_θ − D_exact‖²). */
  losses: number[];
  seconds: number;
}

/**
 * Fits the network to a mixture by regression on its exact denoiser: x_σ = x0 + σ·n with x0 from the mixture
 * and σ as EDM draws it (plus a log-uniform share over the whole ODE range), loss
 * λ(σ)·‖D_θ(x_σ, σ) − D_exact(x_σ, σ)‖² with EDM's λ = 1/c_out² — the same as ‖F_θ − F_target‖², F_target =
 * (D_exact − c_skip·x)/c_out. The target is the exact posterior mean, not the noisy x0 of plain DSM, so the
 * gradient has no target noise and the fit converges far faster. Every random draw comes from a plain-JS
 * source seeded by `seed`: the same options give the same weights. Trains `mlp` in place.
 */
export function fitToyMlp(mlp: ToyMlp, gmm: Gmm, opts: Partial<ToyFitOptions> = {}): ToyFitResult {
  const o = { ...toyFitDefaults, ...opts };
  const dim = checkGmm(gmm);
  if (dim !== mlp.config.dim)
    throw new RangeError(`fitToyMlp: a ${dim}-D mixture for a ${mlp.config.dim}-D network`);
  if (mlp.config.stepCondition)
    throw new RangeError(
      'fitToyMlp fits an unconditioned network (copy it with a step condition afterwards)',
    );
  const rng = makeRng(o.seed);
  const lnMin = Math.log(o.sigmaMin);
  const lnMax = Math.log(o.sigmaMax);
  const adam = new Adam(mlp.weights);
  const losses: number[] = [];
  const start = Date.now();
  try {
    for (let step = 0; step < o.steps; step++) {
      const x0 = sampleGmm(gmm, o.batch, rng);
      const xs = new Float32Array(o.batch * dim);
      const cIn = new Float32Array(o.batch);
      const cNoise = new Float32Array(o.batch);
      const target = new Float32Array(o.batch * dim);
      for (let i = 0; i < o.batch; i++) {
        const ln =
          rng.uniform() < o.uniformFraction
            ? lnMin + rng.uniform() * (lnMax - lnMin)
            : Math.min(lnMax, Math.max(lnMin, o.pMean + o.pStd * rng.normal()));
        const sigma = Math.exp(ln);
        const x = x0[i].map((v) => v + sigma * rng.normal());
        const d = gmmDenoise64(gmm, x, sigma);
        const s = edmScalings(sigma, SIGMA_DATA);
        cIn[i] = s.cIn;
        cNoise[i] = s.cNoise;
        for (let j = 0; j < dim; j++) {
          xs[i * dim + j] = x[j];
          target[i * dim + j] = (d[j] - s.cSkip * x[j]) / s.cOut;
        }
      }
      const frac = o.steps > o.warmup ? Math.max(0, step - o.warmup) / (o.steps - o.warmup) : 0;
      const lr = o.lr * (1 - (1 - o.lrFinal) * frac);
      const loss = tf.tidy(() => {
        const xIn = tf.tensor2d(xs, [o.batch, dim]).mul(tf.tensor2d(cIn, [o.batch, 1]));
        const c = tf.tensor1d(cNoise);
        const f = tf.tensor2d(target, [o.batch, dim]);
        return adam.minimize(() => mlp.net(xIn, c).sub(f).square().sum().div(o.batch) as tf.Scalar, lr);
      });
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
  } finally {
    adam.dispose();
  }
  return { losses, seconds: (Date.now() - start) / 1000 };
}
