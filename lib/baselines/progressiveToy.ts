import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { checkGmm, type Gmm, gmmDenoiser, sampleGmm } from '../models/gmm';
import { copyToyMlp, type ToyMlp } from '../models/toyMlp';
import {
  type PdConfig,
  type PdIterationResult,
  type PdState,
  pdDefaults,
  trainProgressive,
} from './progressiveDistillation';
import { pdDataRng } from './progressiveTargets';

/**
 * PD at toy scale: 16 → 2 steps, a larger batch and rate for a 2-D MLP (the fit's rate, `fitToyMlp`), and
 * x0 drawn from the mixture itself.
 */
export const toyPdDefaults: PdConfig = {
  ...pdDefaults,
  startSteps: 16,
  finalSteps: 2,
  iterationsPerRound: 200,
  batch: 128,
  lr: 2e-3,
};

export interface ToyPdOptions {
  /** Settings over `toyPdDefaults`. */
  cfg?: Partial<PdConfig>;
  /** Round 0's teacher (default: the mixture's exact denoiser; pass `fitted.denoise` for plain PD). */
  teacher?: Denoiser;
  onIteration?: (p: PdIterationResult) => void;
}

export interface ToyPdResult {
  /** The final student, a copy of `fitted` distilled round after round (the caller disposes it). */
  student: ToyMlp;
  cfg: PdConfig;
  state: PdState;
}

/**
 * Progressive Distillation of a network fitted to a mixture (`fitToyMlp`): the student starts as a copy of
 * `fitted` (left unchanged); round 0's teacher is the exact denoiser by default, so the rounds distil the
 * exact startSteps-step Euler sampler; x0 of each iteration is a fresh draw from the mixture.
 */
export async function toyProgressive(
  fitted: ToyMlp,
  gmm: Gmm,
  opts: ToyPdOptions = {},
): Promise<ToyPdResult> {
  const cfg: PdConfig = { ...toyPdDefaults, ...opts.cfg };
  const dim = checkGmm(gmm);
  if (dim !== fitted.config.dim)
    throw new RangeError(`toyProgressive: a ${dim}-D mixture for a ${fitted.config.dim}-D network`);
  const student = copyToyMlp(fitted);
  try {
    const r = await trainProgressive({
      config: cfg,
      teacher: opts.teacher ?? gmmDenoiser(gmm),
      student,
      copy: () => copyToyMlp(student),
      data: (round, iteration) =>
        tf.tensor2d(sampleGmm(gmm, cfg.batch, pdDataRng(cfg.seed, round, iteration)), [cfg.batch, dim]),
      shape: [dim],
      onProgress: (p) => opts.onIteration?.(p.last),
    });
    return { student, cfg, state: r.state };
  } catch (e) {
    student.dispose();
    throw e;
  }
}
