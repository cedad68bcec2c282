import * as tf from '@tensorflow/tfjs';
import { type MnistSet, mnistStepBatch } from '../data/mnist';
import { countCalls, type Denoiser } from '../diffusion/denoiser';
import { SIGMA_DATA } from '../diffusion/precond';
import { heunStep } from '../diffusion/solvers/heun';
import { type Gmm, sampleGmm } from '../models/gmm';
import { assignWeights } from '../models/weightsIO';
import { iterationRng } from '../sfd/plan';
import { Adam } from '../train/adam';
import { checkpointJson, readCheckpoint, restoreGroup, writeCheckpoint } from '../train/checkpoint';
import { Ema } from '../train/ema';
import { dropStep, learningRateAt } from '../train/lrSchedule';
import { namedGrads } from '../train/namedGrads';
import { checkResumable, openRunDir } from '../train/runDir';
import { makeRng, type Rng } from '../util/rng';
import { type CdConfig, cdGrid, cdSamplingOf, checkCdConfig } from './consistencyConfig';
import {
  type ConsistencyFn,
  type ConsistencyNetwork,
  consistencyFunction,
  updateTargetNetwork,
} from './consistencyModel';
import {
  type CdSampling,
  type ConsistencySampler,
  consistencySampler,
  searchMidTau,
} from './consistencySampler';

// --- data sources: x0 of an iteration, a pure function of (seed, iteration)

/** Clean samples x0 for an iteration (the caller owns the tensor). */
export type CdData = (iteration: number) => tf.Tensor;

/** MNIST batches in the order of mnistStepBatch (what the uninterrupted run would have seen). */
export function cdMnistData(ds: MnistSet, batch: number, seed: number): CdData {
  return (it) => mnistStepBatch(ds, batch, seed, it).x;
}

/** Samples of a mixture from their own stream of (seed, iteration). */
export function cdMixtureData(gmm: Gmm, batch: number, seed: number): CdData {
  return (it) =>
    tf.tensor2d(
      sampleGmm(gmm, batch, makeRng((Math.imul(it + 1, 0x6a09e667) ^ Math.imul(seed + 1, 0x3c6ef372)) >>> 0)),
    );
}

// --- distances, one function each

/** One distance per sample. */
export type CdDistance = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor1D;

/** CM's l2: the mean of squared differences over each sample's elements. */
export const cdL2Distance: CdDistance = (a, b) =>
  tf.tidy(() => a.sub(b).square().reshape([a.shape[0], -1]).mean(1) as tf.Tensor1D);

// --- one iteration

/** What one iteration draws, as plain data: each sample's grid index n (sorted) and the groups of equal n. */
export interface CdPlan {
  iteration: number;
  grid: number[];
  /** n per sample, uniform in {0 … N−2}, sorted so equal n sit together. */
  ns: number[];
  /** Runs of equal n: one teacher Heun step (2 calls) each. */
  groups: { n: number; size: number }[];
}

/** The iteration's indices n and unit noise ε (after them, from the same stream). */
export function planCdIteration(c: CdConfig, iteration: number, grid = cdGrid(c)): CdPlan & { rng: Rng } {
  const rng = iterationRng(c.seed, iteration);
  const ns = Array.from({ length: c.batch }, () => Math.floor(rng.uniform() * (c.nGrid - 1))).sort(
    (a, b) => a - b,
  );
  const groups: CdPlan['groups'] = [];
  for (const n of ns) {
    const last = groups[groups.length - 1];
    if (last?.n === n) last.size++;
    else groups.push({ n, size: 1 });
  }
  return { iteration, grid, ns, groups, rng };
}

export interface CdContext {
  cfg: CdConfig;
  /** The online network F_θ (trained). */
  online: ConsistencyNetwork;
  /** The target network θ⁻ when μ > 0 (null: the online weights, stop-gradient). */
  target: ConsistencyNetwork | null;
  /** The sampling EMA (null: none). */
  ema: Ema | null;
  adam: Adam;
  teacher: Denoiser;
  data: CdData;
  distance: CdDistance;
}

export interface CdIterationResult {
  iteration: number;
  loss: number;
  teacherCalls: number;
}

/**
 * One consistency-distillation iteration (CM Alg. 2): x0 from the data; per sample n uniform in {0 … N−2}
 * and x_n = x0 + σ_n·ε; one teacher Heun step from σ_n down to σ_{n+1} (the last one lands on σ_min, where
 * the target is x̂ itself); loss = mean d(f_θ(x_n, σ_n), f_θ⁻(x̂_{n+1}, σ_{n+1})) with λ = 1; an Adam update;
 * then θ⁻ ← μθ⁻ + (1 − μ)θ and the sampling EMA.
 */
export async function cdIteration(ctx: CdContext, iteration: number, lr: number): Promise<CdIterationResult> {
  const { cfg } = ctx;
  const plan = planCdIteration(cfg, iteration);
  const sigma = plan.ns.map((n) => plan.grid[n]); // σ_n, the higher level
  const sigmaNext = plan.ns.map((n) => plan.grid[n + 1]); // σ_{n+1}, one grid point lower
  const params = { sigmaMin: cfg.schedule.tMin, sigmaData: SIGMA_DATA };
  const f = consistencyFunction(ctx.online.net, params);
  const fTarget: ConsistencyFn = ctx.target ? consistencyFunction(ctx.target.net, params) : f;
  const teacher = countCalls(ctx.teacher);
  const x0 = ctx.data(iteration);
  const [xn, target] = tf.tidy(() => {
    const xn = x0.add(unitNoise(plan.rng, x0).mul(perSample(sigma, x0))); // x_n = x0 + σ_n·ε
    const xNext = teacherHeunSteps(teacher.denoise, xn, plan); // x̂_{n+1}
    return [xn, fTarget(xNext, sigmaNext)]; // outside the tape: stop-gradient
  });
  const g = namedGrads(ctx.online.weights, () => ({
    loss: ctx.distance(f(xn, sigma), target).mean() as tf.Scalar,
  }));
  try {
    const loss = (await g.loss.data())[0];
    if (Number.isFinite(loss)) {
      ctx.adam.apply(g.grads, lr);
      if (ctx.target) updateTargetNetwork(ctx.target.weights, ctx.online.weights, cfg.targetEma);
      ctx.ema?.update(ctx.online.weights, cfg.batch, (iteration + 1) * cfg.batch);
    }
    return { iteration, loss, teacherCalls: teacher.calls() };
  } finally {
    tf.dispose([x0, xn, target, g.loss, ...g.grads.values()]);
  }
}

/** Unit normals shaped as x, from the iteration's stream. */
function unitNoise(rng: Rng, x: tf.Tensor): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: x.size }, () => rng.normal()),
    x.shape,
  );
}

/** One value per sample, shaped to broadcast over x's other axes. */
function perSample(values: number[], x: tf.Tensor): tf.Tensor {
  return tf.tensor(values, [x.shape[0], ...x.shape.slice(1).map(() => 1)]);
}

/** The teacher's Heun step σ_n → σ_{n+1} for every sample: one step (2 calls) per run of equal n. */
function teacherHeunSteps(teacher: Denoiser, xn: tf.Tensor, plan: CdPlan): tf.Tensor {
  return tf.tidy(() => {
    const parts = tf.split(
      xn,
      plan.groups.map((g) => g.size),
    );
    return tf.concat(
      parts.map((p, i) => heunStep(teacher, p, plan.grid[plan.groups[i].n], plan.grid[plan.groups[i].n + 1])),
    );
  });
}

// --- the trainer

export interface CdLogPoint {
  iteration: number;
  loss: number;
  lr: number;
  teacherCalls: number;
  seconds: number;
}

export interface CdEvalPoint {
  iteration: number;
  nfe: number;
  fid: number;
  seconds: number;
}

interface CdCheckpointMeta {
  format: 'cd-checkpoint';
  step: number;
  config: CdConfig;
  teacherSha256: string;
  seconds: number;
  log: CdLogPoint[];
  evals: CdEvalPoint[];
}

/** Where a run keeps its checkpoints and what it may resume. */
export interface CdRun {
  out: string;
  resume?: boolean;
  /** The teacher's identity (weights' sha256): a checkpoint of another teacher is refused. */
  teacherSha256: string;
  command: string;
  allowShipped?: boolean;
}

export interface TrainConsistencyOptions {
  config: CdConfig;
  /** F_θ, initialised from the teacher's raw network; trained in place. */
  network: ConsistencyNetwork;
  /** A new network of the same architecture (its weights are overwritten): the target, the EMA's view. */
  create: () => ConsistencyNetwork;
  teacher: Denoiser;
  data: CdData;
  /** Required for loss 'lpips' (images); l2 is built in. */
  perceptual?: CdDistance;
  /** Clamp sampler outputs to [−1, 1] (images). */
  clamp: boolean;
  /** Checkpoints, lock and resume in a run folder (none: in memory). */
  run?: CdRun;
  /** Stop once this iteration is reached, leaving the checkpoint (as if killed there); `resume` continues. */
  stopAt?: number;
  evalEvery?: number;
  /** Scores the sampling-EMA model at an NFE (lower is better; FID for images). */
  evaluate?: (sampler: ConsistencySampler, nfe: number) => Promise<number> | number;
  /** At the end, choose the 2-step middle σ among the grid's interior points by `evaluate` at NFE 2. */
  searchMidTau?: boolean;
  onProgress?: (p: { iteration: number; iterations: number; seconds: number; last: CdLogPoint }) => void;
  onEval?: (e: CdEvalPoint) => void;
  /** Called once the run is complete, inside its lock (the image entry saves the model here). */
  finish?: (r: TrainConsistencyResult) => Promise<void>;
}

export interface TrainConsistencyResult {
  config: CdConfig;
  iterations: number;
  /** Whether all config.iterations ran (false after stopAt). */
  complete: boolean;
  seconds: number;
  log: CdLogPoint[];
  evals: CdEvalPoint[];
  sampling: CdSampling;
  /** The 2-step search's scores when searchMidTau ran. */
  tauSearch?: { mid: number; score: number }[];
  /** The shipped model: a network holding the sampling-EMA weights (the caller disposes it). */
  model: ConsistencyNetwork;
  sampler: ConsistencySampler;
}

/**
 * Distils a teacher into a consistency model: the iteration loop around `cdIteration`, generic over the
 * network and the data. With `run`, checkpoints every `checkpointEvery` iterations hold the online, target
 * and sampling-EMA weights, Adam's state, the config and the log (atomic, hashed); `resume` continues bit
 * for bit, since noise, n and batches are functions of (seed, iteration). A non-finite loss stops the run
 * with the last checkpoint intact.
 */
export async function trainConsistency(opts: TrainConsistencyOptions): Promise<TrainConsistencyResult> {
  const cfg = opts.config;
  checkCdConfig(cfg);
  if (cfg.loss === 'lpips' && !opts.perceptual)
    throw new RangeError("loss 'lpips' needs a perceptual distance (image models only)");
  if (opts.searchMidTau && !opts.evaluate)
    throw new RangeError('searchMidTau needs an evaluate function (a held-out score)');
  const made: ConsistencyNetwork[] = [];
  const copyOf = (src: Map<string, tf.Tensor>) => {
    const n = opts.create();
    made.push(n);
    assignWeights(n.weights, src, 'consistency network copy');
    return n;
  };
  const adam = new Adam(opts.network.weights);
  const ema = new Ema(opts.network.weights, cdEmaHalfLife(cfg), cfg.emaRampUp);
  let release = () => {};
  try {
    const target = cfg.targetEma > 0 ? copyOf(opts.network.weights) : null;
    const view = copyOf(ema.weights); // runs the shipped weights for evaluations
    const ckPath = opts.run ? checkpointJson(opts.run.out) : null;
    if (opts.run && ckPath)
      release = openRunDir({
        out: opts.run.out,
        resumeFrom: opts.run.resume ? ckPath : null,
        resumingOut: !!opts.run.resume,
        allowShipped: opts.run.allowShipped,
        command: opts.run.command,
      });
    else if (opts.stopAt !== undefined)
      throw new RangeError('stopAt needs a run folder to leave its checkpoint in');
    const ctx: CdContext = {
      cfg,
      online: opts.network,
      target,
      ema: cfg.ema > 0 ? ema : null,
      adam,
      teacher: opts.teacher,
      data: opts.data,
      distance: cfg.loss === 'lpips' ? (opts.perceptual as CdDistance) : cdL2Distance,
    };
    let it = 0;
    let seconds = 0;
    let log: CdLogPoint[] = [];
    let evals: CdEvalPoint[] = [];
    if (opts.run?.resume && ckPath) {
      const ck = readCheckpoint<CdCheckpointMeta>(ckPath, 'cd-checkpoint');
      try {
        checkResumable(ckPath, ck.meta.config, cfg, 'iterations', ck.meta.step);
        if (ck.meta.teacherSha256 !== opts.run.teacherSha256)
          throw new Error(
            `--resume: ${ckPath} was distilled from another teacher (sha256 ${ck.meta.teacherSha256})`,
          );
        checkDropsKept(ckPath, ck.meta.config, cfg, ck.meta.step);
        restoreGroup(ck, 'model', opts.network.weights, ckPath);
        restoreGroup(ck, 'ema', ema.weights, ckPath);
        if (target) restoreGroup(ck, 'target', target.weights, ckPath);
        adam.restore(ck.groups.adam ?? new Map(), ck.meta.step);
        it = ck.meta.step;
        ({ seconds, log, evals } = ck.meta);
      } finally {
        ck.dispose();
      }
    }
    const shipped = () => (cfg.ema > 0 ? ema.weights : opts.network.weights);
    const samplerOf = (sampling: CdSampling) => {
      assignWeights(view.weights, shipped(), 'sampling EMA');
      return consistencySampler(view.net, sampling, { sigmaMin: cfg.schedule.tMin, clamp: opts.clamp });
    };
    const save = async () => {
      if (!ckPath || !opts.run) return;
      const groups: Record<string, Map<string, tf.Tensor>> = {
        model: opts.network.weights,
        ema: ema.weights,
        adam: adam.state(),
      };
      if (target) groups.target = target.weights;
      await writeCheckpoint<CdCheckpointMeta>(ckPath, groups, {
        format: 'cd-checkpoint',
        step: it,
        config: cfg,
        teacherSha256: opts.run.teacherSha256,
        seconds,
        log,
        evals,
      });
    };
    const evaluate = async () => {
      if (!opts.evaluate) return;
      const s = samplerOf(cdSamplingOf(cfg));
      for (const nfe of s.nfes) {
        const e = { iteration: it, nfe, fid: await opts.evaluate(s, nfe), seconds: Math.round(seconds) };
        evals.push(e);
        opts.onEval?.(e);
      }
    };
    if (opts.evalEvery && it === 0) await evaluate();
    const stop = Math.min(cfg.iterations, opts.stopAt ?? cfg.iterations);
    while (it < stop) {
      const t0 = performance.now();
      const lr = learningRateAt(cfg.lr, { step: it, batch: cfg.batch, steps: cfg.iterations });
      const r = await cdIteration(ctx, it, lr);
      seconds += (performance.now() - t0) / 1000;
      if (!Number.isFinite(r.loss))
        throw new Error(
          `consistency distillation diverged: loss ${r.loss} at iteration ${it}; ${ckPath && (it >= cfg.checkpointEvery || opts.run?.resume) ? `the last checkpoint in ${ckPath} is intact` : 'no checkpoint was written yet'}`,
        );
      const point = {
        iteration: it + 1,
        loss: r.loss,
        lr,
        teacherCalls: r.teacherCalls,
        seconds: Math.round(seconds * 10) / 10,
      };
      log.push(point);
      it++;
      opts.onProgress?.({ iteration: it, iterations: cfg.iterations, seconds, last: point });
      if (opts.evalEvery && (it % opts.evalEvery === 0 || it === cfg.iterations)) await evaluate();
      if (it % cfg.checkpointEvery === 0 || it === stop) await save();
      // one turn of the event loop per iteration: a notebook's display messages and interrupts get through
      await new Promise((resolve) => setImmediate(resolve));
    }
    let sampling = cdSamplingOf(cfg);
    let tauSearch: TrainConsistencyResult['tauSearch'];
    const complete = it >= cfg.iterations;
    if (complete && opts.searchMidTau && opts.evaluate) {
      const score = opts.evaluate;
      const interior = cdGrid(cfg).slice(1, -1);
      const found = await searchMidTau(interior, (mid) =>
        score(samplerOf({ ...sampling, taus2: [cfg.schedule.tMax, mid] }), 2),
      );
      sampling = { ...sampling, taus2: [cfg.schedule.tMax, found.mid] };
      tauSearch = found.scores;
    }
    const model = copyOf(shipped());
    made.splice(made.indexOf(model), 1); // the caller's now
    const sampler = consistencySampler(model.net, sampling, {
      sigmaMin: cfg.schedule.tMin,
      clamp: opts.clamp,
    });
    const result = {
      config: cfg,
      iterations: it,
      complete,
      seconds,
      log,
      evals,
      sampling,
      tauSearch,
      model,
      sampler,
    };
    try {
      if (complete) await opts.finish?.(result);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return result;
  } finally {
    release();
    adam.dispose();
    ema.dispose();
    for (const n of made) n.dispose();
  }
}

/** The Ema half-life (images) whose per-iteration decay is `cfg.ema` once ramped up. */
export function cdEmaHalfLife(cfg: CdConfig): number {
  return cfg.ema > 0 ? (cfg.batch * Math.log(0.5)) / Math.log(cfg.ema) : 0;
}

/** A resumed run may lengthen --iterations only if that moves no learning-rate drop it has passed. */
function checkDropsKept(ckPath: string, was: CdConfig, now: CdConfig, done: number): void {
  for (const d of now.lr.drops) {
    const a = dropStep(d, was.iterations);
    const b = dropStep(d, now.iterations);
    if (a !== b && Math.min(a, b) <= done)
      throw new Error(
        `--resume: ${ckPath}: --iterations ${now.iterations} would move the learning-rate drop from iteration ${a} to ${b}, which this run (at ${done}) has already passed`,
      );
  }
}
