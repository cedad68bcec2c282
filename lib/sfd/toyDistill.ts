import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { checkGmm, type Gmm, gmmDenoiser } from '../models/gmm';
import { copyToyMlp, type ToyMlp } from '../models/toyMlp';
import { Adam } from '../train/adam';
import { learningRateAt } from '../train/lrSchedule';
import { checkSfdConfig, type SfdConfig, sfdDefaults } from './config';
import { type SfdContext, type SfdIterationResult, sfdIteration } from './iteration';
import { type StudentSampling, studentSampler } from './sampleStudent';

/**
 * SFD at toy scale on an exact mixture teacher: the paper's recipe (AFS, L1, Adam, ×0.1 at half) with a
 * larger batch and rate for a 2-D MLP, and a teacher that is itself (nearly) exact: DPM-Solver++(3M) on the
 * closed-form denoiser with K = 8 and no thresholding (thresholding clips the mixture's x0 predictions,
 * which are not pixels), so the targets sit close to the exact PF-ODE states.
 */
export const toySfdDefaults: SfdConfig = {
  ...sfdDefaults,
  k: 8,
  teacherThreshold: false,
  batch: 128,
  iterations: 100,
  lr: { lr: 2e-3, warmupImages: 0, drops: [{ atFraction: 0.5, factor: 0.1 }] },
};

export interface ToySfdLogPoint extends SfdIterationResult {
  lr: number;
}

export interface ToySfdResult {
  /** The distilled student: a copy of the fitted network (step-conditioned for SFD-v); the caller disposes it. */
  student: ToyMlp;
  cfg: SfdConfig;
  log: ToySfdLogPoint[];
  seconds: number;
}

export interface ToySfdOptions {
  /** Settings over `toySfdDefaults` (NFEs, K, batch, iterations, lr, condition for SFD-v…). */
  cfg?: Partial<SfdConfig>;
  /** After each iteration, with the student as it now is (a live view can walk it; awaited). */
  onIteration?: (p: ToySfdLogPoint, student: ToyMlp) => void | Promise<void>;
}

/**
 * Distils a network fitted to a mixture (`fitToyMlp`) into a few-step Euler student with SFD, against the
 * mixture's exact denoiser as teacher: the student starts as a copy of `fitted` (which is left unchanged),
 * and each iteration is `sfdIteration` (the teacher solve, the student's own walk, one Adam update per
 * trained step) at the schedule's learning rate.
 */
export async function toySfd(fitted: ToyMlp, gmm: Gmm, opts: ToySfdOptions = {}): Promise<ToySfdResult> {
  const cfg: SfdConfig = { ...toySfdDefaults, ...opts.cfg };
  checkSfdConfig(cfg);
  const dim = checkGmm(gmm);
  if (dim !== fitted.config.dim)
    throw new RangeError(`toySfd: a ${dim}-D mixture for a ${fitted.config.dim}-D network`);
  const teacher = gmmDenoiser(gmm);
  const student = copyToyMlp(fitted, { stepCondition: cfg.condition !== 'none' });
  const adam = new Adam(student.weights);
  const ctx: SfdContext = {
    cfg,
    teacher: () => teacher,
    student: { denoise: student.denoise, weights: student.weights },
    adam,
    shape: [dim],
  };
  const log: ToySfdLogPoint[] = [];
  const start = Date.now();
  try {
    for (let it = 0; it < cfg.iterations; it++) {
      const lr = learningRateAt(cfg.lr, { step: it, batch: cfg.batch, steps: cfg.iterations });
      const p = { ...(await sfdIteration(ctx, it, lr)), lr };
      log.push(p);
      await opts.onIteration?.(p, student);
    }
  } catch (e) {
    student.dispose();
    throw e;
  } finally {
    adam.dispose();
  }
  return { student, cfg, log, seconds: (Date.now() - start) / 1000 };
}

/** How a toy SFD student samples (its card's sampling): Euler on its grid, its AFS, schedule and condition. */
export function toySampling(cfg: SfdConfig): StudentSampling {
  return { nfes: cfg.nfes, afs: cfg.afs, schedule: cfg.schedule, condition: cfg.condition };
}

/**
 * Endpoints of a denoiser's Euler walk on the student grid of `nfe` (AFS and condition as `sampling` says),
 * from noise states x_T given as rows at t_max: the student's sampler, or an undistilled network's Euler.
 */
export async function toyEulerEndpoints(
  denoise: Denoiser,
  sampling: StudentSampling,
  nfe: number,
  xT: number[][],
): Promise<number[][]> {
  const x = tf.tensor2d(xT);
  try {
    const out = await studentSampler(denoise, sampling, nfe).walk(x);
    const rows = out.arraySync() as number[][];
    out.dispose();
    return rows;
  } finally {
    x.dispose();
  }
}
