import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnist, type MnistSet, mnistStepBatch, stepsPerEpoch } from '../data/mnist';
import { createUNet, type UNetConfig, unetDefaults } from '../models/unet';
import { saveUNet } from '../models/unetFiles';
import { loadWeights, removeIfPresent, saveWeights } from '../models/weightsIO';
import { makeRng } from '../util/rng';
import { Adam, type AdamConfig, adamDefaults } from './adam';
import { edmLoss, edmNoiseLevels, type NoiseLevelDistribution, sampleSigmas } from './edmLoss';
import { Ema } from './ema';

/** Everything that defines a teacher training run (saved in its checkpoints and card). */
export interface TeacherTrainConfig {
  unet: UNetConfig;
  steps: number;
  batch: number;
  lr: number;
  /** Linear learning-rate warm-up over this many images (EDM's lr_rampup). */
  warmupImages: number;
  emaHalfLifeImages: number;
  noise: NoiseLevelDistribution;
  adam: AdamConfig;
  seed: number;
  checkpointEvery: number;
  /** Steps per point of the recorded loss curve. */
  logEvery: number;
}

/**
 * The MNIST teacher: 28×28×1, three levels (28, 14, 7), attention at 7×7, a learned positional bias. The
 * full-resolution level is kept narrow (it dominates the step time); the coarse levels, where a digit's
 * layout is decided, are wider at little cost (measured: 16/32/64 costs 10 % more per step than 16/32/32).
 */
export const mnistTeacherUNet: UNetConfig = {
  ...unetDefaults,
  resolution: 28,
  inChannels: 1,
  channels: [16, 32, 64],
  positional: true,
};

export const teacherTrainDefaults: TeacherTrainConfig = {
  unet: mnistTeacherUNet,
  steps: 7000,
  batch: 64,
  lr: 1e-3,
  warmupImages: 10_000,
  emaHalfLifeImages: 50_000,
  noise: edmNoiseLevels, // EDM's ln σ ~ N(−1.2, 1.2²)
  adam: adamDefaults,
  seed: 0,
  checkpointEvery: 250,
  logEvery: 50,
};

export interface LossPoint {
  step: number;
  loss: number;
  seconds: number;
}

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  seconds: number;
}

interface CheckpointMeta {
  format: 'sfd-teacher-checkpoint';
  config: TeacherTrainConfig;
  step: number;
  seconds: number;
  losses: LossPoint[];
}

export interface TrainTeacherOptions {
  config: TeacherTrainConfig;
  out: string;
  resume?: boolean;
  data?: MnistSet;
  onProgress?: (p: TrainProgress) => void;
  /** Extra fields for the card (command line, backend). */
  card?: Record<string, unknown>;
}

export interface TrainTeacherResult {
  step: number;
  seconds: number;
  losses: LossPoint[];
  modelDir: string;
}

const CKPT = 'checkpoint.json';

/** Learning rate at a step: linear warm-up over `warmupImages`, then constant (as EDM). */
export function learningRate(cfg: TeacherTrainConfig, step: number): number {
  const images = (step + 1) * cfg.batch;
  return cfg.lr * Math.min(1, cfg.warmupImages > 0 ? images / cfg.warmupImages : 1);
}

/** The step's random source: a pure function of (seed, step), so resumed runs draw the same noise. */
function stepRng(seed: number, step: number) {
  return makeRng((Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0);
}

function checkConfig(cfg: TeacherTrainConfig): void {
  const posInt = (v: number, n: string) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${n} must be a positive integer, got ${v}`);
  };
  posInt(cfg.steps, 'steps');
  posInt(cfg.batch, 'batch');
  posInt(cfg.checkpointEvery, 'checkpointEvery');
  posInt(cfg.logEvery, 'logEvery');
  if (!(cfg.lr > 0)) throw new RangeError(`lr must be > 0, got ${cfg.lr}`);
}

/** The parts of a configuration that must agree between a checkpoint and a resumed run (all but steps). */
function resumeKey(cfg: TeacherTrainConfig): string {
  const { steps: _s, ...rest } = cfg;
  return JSON.stringify(rest);
}

/**
 * EDM training of a UNet teacher on MNIST train with Adam, EMA and LR warm-up. Writes an atomic
 * checkpoint (model, EMA, Adam moments, loss curve) every `checkpointEvery` steps; with `resume` it
 * continues a stopped run exactly (batches and noise are functions of seed and step). At the end the
 * EMA weights are saved as the model (`model.json`, `weights.bin`) with a card.
 */
export async function trainTeacher(opts: TrainTeacherOptions): Promise<TrainTeacherResult> {
  const cfg = opts.config;
  checkConfig(cfg);
  mkdirSync(opts.out, { recursive: true });
  const ckptPath = join(opts.out, CKPT);
  if (existsSync(ckptPath) && !opts.resume)
    throw new Error(`${ckptPath} exists: pass --resume to continue it, or choose another --out`);
  if (opts.resume && !existsSync(ckptPath)) throw new Error(`--resume: no checkpoint at ${ckptPath}`);

  const data = opts.data ?? loadMnist('train');
  stepsPerEpoch(data, cfg.batch);
  const model = createUNet(cfg.unet, cfg.seed);
  const adam = new Adam(model.weights, cfg.adam);
  const ema = new Ema(model.weights, cfg.emaHalfLifeImages);
  let step = 0;
  let seconds = 0;
  let losses: LossPoint[] = [];
  let lastBin: string | null = null;
  try {
    if (opts.resume) {
      const ck = loadWeights<CheckpointMeta>(ckptPath);
      if (ck.meta.format !== 'sfd-teacher-checkpoint')
        throw new Error(`${ckptPath} is not a teacher checkpoint`);
      if (resumeKey(ck.meta.config) !== resumeKey(cfg))
        throw new Error(
          `--resume: ${ckptPath} was made with a different configuration (only --steps may change)`,
        );
      const pick = (prefix: string) =>
        new Map(
          [...ck.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]),
        );
      for (const [k, v] of model.weights) v.assign(pick('model/').get(k) as tf.Tensor);
      for (const [k, v] of ema.weights) v.assign(pick('ema/').get(k) as tf.Tensor);
      adam.restore(pick('adam/'), ck.meta.step);
      tf.dispose([...ck.tensors.values()]);
      ({ step, seconds, losses } = ck.meta);
      lastBin = ck.binPath;
    }

    const saveCheckpoint = async () => {
      const tensors = new Map<string, tf.Tensor>();
      for (const [k, v] of model.weights) tensors.set(`model/${k}`, v);
      for (const [k, v] of ema.weights) tensors.set(`ema/${k}`, v);
      for (const [k, v] of adam.state()) tensors.set(`adam/${k}`, v);
      const bin = `checkpoint-${String(step).padStart(7, '0')}.bin`;
      await saveWeights<CheckpointMeta>(ckptPath, bin, tensors, {
        format: 'sfd-teacher-checkpoint',
        config: cfg,
        step,
        seconds,
        losses,
      });
      const binPath = join(opts.out, bin);
      if (lastBin && lastBin !== binPath) removeIfPresent(lastBin);
      lastBin = binPath;
    };

    const byVarName = new Map([...model.weights].map(([k, v]) => [v.name, k]));
    const vars = [...model.weights.values()];
    let windowSum = 0;
    let windowN = 0;
    while (step < cfg.steps) {
      const t0 = performance.now();
      const rng = stepRng(cfg.seed, step);
      const { x } = mnistStepBatch(data, cfg.batch, cfg.seed, step);
      const sigmas = sampleSigmas(cfg.batch, rng, cfg.noise);
      const noise = tf.tensor4d(
        Float32Array.from({ length: x.size }, () => rng.normal()),
        x.shape,
      );
      const { value, grads } = tf.variableGrads(
        () => edmLoss((xin, cn) => model.net(xin, cn), x, sigmas, noise),
        vars,
      );
      const named = new Map(Object.entries(grads).map(([n, g]) => [byVarName.get(n) as string, g]));
      const loss = (await value.data())[0];
      if (!Number.isFinite(loss)) {
        tf.dispose([x, noise, value, ...Object.values(grads)]);
        throw new Error(
          `training diverged: loss ${loss} at step ${step}; the last checkpoint (${lastBin ?? 'none'}) is intact`,
        );
      }
      adam.apply(named, learningRate(cfg, step));
      tf.dispose([x, noise, value, ...Object.values(grads)]);
      step++;
      ema.update(model.weights, cfg.batch, step * cfg.batch);
      seconds += (performance.now() - t0) / 1000;
      windowSum += loss;
      windowN++;
      if (step % cfg.logEvery === 0 || step === cfg.steps) {
        losses.push({ step, loss: windowSum / windowN, seconds: Math.round(seconds * 10) / 10 });
        windowSum = 0;
        windowN = 0;
      }
      opts.onProgress?.({ step, steps: cfg.steps, loss, seconds });
      if (step % cfg.checkpointEvery === 0 || step === cfg.steps) await saveCheckpoint();
    }
    const last = losses[losses.length - 1];
    await saveUNet(opts.out, ema.weights, cfg.unet, {
      ...opts.card,
      weights: 'EMA',
      training: cfg,
      steps: step,
      images: step * cfg.batch,
      wallSeconds: Math.round(seconds),
      finalLoss: last?.loss,
      losses,
    });
    return { step, seconds, losses, modelDir: opts.out };
  } finally {
    adam.dispose();
    ema.dispose();
    model.dispose();
  }
}

/**
 * Writes the EMA weights of a training checkpoint as a model directory (model.json + weights.bin), so a
 * run can be evaluated part-way (FID curves) or a stopped run used as it stands. Returns the step.
 */
export async function exportCheckpoint(
  ckptPath: string,
  out: string,
  card: Record<string, unknown> = {},
): Promise<number> {
  const ck = loadWeights<CheckpointMeta>(ckptPath);
  try {
    if (ck.meta.format !== 'sfd-teacher-checkpoint')
      throw new Error(`${ckptPath} is not a teacher checkpoint`);
    const ema = new Map(
      [...ck.tensors].filter(([k]) => k.startsWith('ema/')).map(([k, t]) => [k.slice('ema/'.length), t]),
    );
    const { config: cfg, step, seconds, losses } = ck.meta;
    await saveUNet(out, ema, cfg.unet, {
      ...card,
      weights: 'EMA',
      fromCheckpoint: { path: ckptPath, sha256: ck.sha256 },
      training: cfg,
      steps: step,
      images: step * cfg.batch,
      wallSeconds: Math.round(seconds),
      finalLoss: losses[losses.length - 1]?.loss,
      losses,
    });
    return step;
  } finally {
    tf.dispose([...ck.tensors.values()]);
  }
}

/** Reads a teacher card (model.json without its manifest). */
export function readCard(dir: string): Record<string, unknown> {
  const { weightsManifest: _m, ...card } = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  return card;
}
