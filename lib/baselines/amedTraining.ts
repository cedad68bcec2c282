import * as tf from '@tensorflow/tfjs';
import { countCalls } from '../diffusion/denoiser';
import { type TeacherGrid, teacherGrid } from '../diffusion/schedules';
import { gradientCleaner } from '../sfd/gradientCleaning';
import { iterationRng } from '../sfd/plan';
import { teacherTargets } from '../sfd/targets';
import type { Adam } from '../train/adam';
import type { AmedConfig } from './amedConfig';
import type { AmedPredictor } from './amedPredictor';
import type { AmedTeacher } from './amedTeacher';
import { amedWalk } from './amedWalk';

export interface AmedContext {
  cfg: AmedConfig;
  /** The frozen teacher (its weights are never differentiated). */
  teacher: AmedTeacher;
  predictor: AmedPredictor;
  adam: Adam;
  /** One sample's shape ([2] for 2-D points, [28, 28, 1] for MNIST). */
  shape: number[];
}

export interface AmedIterationResult {
  iteration: number;
  /** Σ_pixels (x_stu − x_tea)² / batch of each student step. */
  stepLosses: number[];
  /** Batch means of each step's r, a_n and c_n. */
  r: number[];
  scaleTime: number[];
  scaleDir: number[];
  teacherCalls: number;
  /** Gradient elements replaced because they were NaN or ±∞. */
  nonFiniteGrads: number;
}

/** The fine teacher grid, (M + 1) steps per student interval; `studentTs` is the student's N-point grid. */
export function amedGrid(cfg: AmedConfig): TeacherGrid {
  return teacherGrid(cfg.numSteps, cfg.m + 1, cfg.schedule);
}

/** The iteration's starting noise x_T = t_max·z from (seed, iteration), as SFD draws it. */
export function amedNoise(cfg: AmedConfig, iteration: number, shape: number[]): tf.Tensor {
  const rng = iterationRng(cfg.seed, iteration);
  const size = cfg.batch * shape.reduce((a, b) => a * b, 1);
  const z = Float32Array.from({ length: size }, () => cfg.schedule.tMax * rng.normal());
  return tf.tensor(z, [cfg.batch, ...shape]);
}

/**
 * One AMED training iteration (official training_loop + AMED_loss): fresh noise; the teacher's states at
 * the student's grid points from one solve on the fine grid (no AFS); then the student walks its own grid,
 * each step with its own loss Σ_pixels (x_stu − x_tea(σ_{n+1}))² / batch, gradient (NaN → 0, ±∞ → ±1e5)
 * and Adam update at cfg.lr before the next step. The AFS step trains too: its r and c still act.
 */
export async function amedIteration(ctx: AmedContext, iteration: number): Promise<AmedIterationResult> {
  const { cfg, predictor, adam } = ctx;
  const grid = amedGrid(cfg);
  const xT = amedNoise(cfg, iteration, ctx.shape);
  const teacher = countCalls(ctx.teacher.denoise);
  const cleaner = gradientCleaner();
  const losses: tf.Scalar[] = [];
  const means: tf.Tensor[] = [];
  let targets: tf.Tensor[] = [];
  try {
    targets = teacherTargets(teacher.denoise, xT, grid, {
      solver: cfg.teacherSolver,
      threshold: false,
      afs: false,
    });
    const xEnd = await amedWalk(
      ctx.teacher,
      predictor.predict,
      xT,
      grid.studentTs,
      { maxOrder: cfg.maxOrder, afs: cfg.afs },
      {
        weights: predictor.weights,
        loss: (i, x) => tf.tidy(() => x.sub(targets[i]).square().sum().div(cfg.batch) as tf.Scalar),
        onStep: async (_, { factors, loss, grads }) => {
          means.push(tf.tidy(() => tf.stack([factors.r, factors.scaleTime, factors.scaleDir]).mean(1)));
          if (loss) losses.push(loss);
          if (!grads) return;
          const clean = await cleaner.clean(grads);
          adam.apply(clean, cfg.lr);
          tf.dispose([...clean.values()]);
        },
      },
    );
    xEnd.dispose();
    // one read back per iteration (on a GPU each read is a round trip)
    const all = tf.tidy(() =>
      tf.concat([
        tf.stack(losses),
        tf.stack(means).transpose().flatten(),
        cleaner.replacedCount().reshape([1]),
      ]),
    );
    const v = Array.from(await all.data());
    all.dispose();
    const n = losses.length;
    return {
      iteration,
      stepLosses: v.slice(0, n),
      r: v.slice(n, 2 * n),
      scaleTime: v.slice(2 * n, 3 * n),
      scaleDir: v.slice(3 * n, 4 * n),
      teacherCalls: teacher.calls(),
      nonFiniteGrads: v[4 * n],
    };
  } finally {
    tf.dispose([xT, ...targets, ...losses, ...means]);
    cleaner.dispose();
  }
}
