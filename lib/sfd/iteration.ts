import * as tf from '@tensorflow/tfjs';
import { countCalls, type Denoiser } from '../diffusion/denoiser';
import type { Adam } from '../train/adam';
import type { SfdConfig } from './config';
import { type GradientCleaner, gradientCleaner } from './gradientCleaning';
import { type IterationPlan, iterationRng, planIteration } from './plan';
import { rollout } from './rollout';
import { type PerceptualDistance, sfdStepLoss } from './stepLoss';
import type { Student } from './studentStep';
import type { TargetKey, TargetSource } from './targetCache';
import { teacherRunOf, teacherTargets } from './targets';

export interface SfdContext {
  cfg: SfdConfig;
  /** The teacher for an iteration's grid (a stage-2 teacher is a conditioned student on that grid). */
  teacher: (plan: IterationPlan) => Denoiser;
  student: Student;
  adam: Adam;
  /** One sample's shape ([2] for 2-D points, [28, 28, 1] for MNIST). */
  shape: number[];
  perceptual?: PerceptualDistance;
  /** Where teacher states come from: the teacher solve (default) or a cache of it, keyed by teacher id. */
  targets?: TargetSource;
  /** The teacher's identity for the cache (its weights' sha256); no caching without it. */
  teacherId?: string;
}

export interface SfdIterationResult {
  iteration: number;
  nfe: number;
  /** Loss of every student step (the AFS step's too, as the official code logs it). */
  stepLosses: number[];
  /** Adam updates made (one per trained student step). */
  updates: number;
  /** Teacher denoiser calls made this iteration (0 when the targets came from the cache). */
  teacherCalls: number;
  studentCalls: number;
  /** Gradient elements replaced because they were NaN or ±∞. */
  nonFiniteGrads: number;
}

/** The iteration's starting noise x_T = t_max·z, z ~ N(0, I), from (seed, iteration). */
export function iterationNoise(cfg: SfdConfig, iteration: number, shape: number[]): tf.Tensor {
  const rng = iterationRng(cfg.seed, iteration);
  const size = cfg.batch * shape.reduce((a, b) => a * b, 1);
  const tMax = cfg.schedule.tMax;
  return tf.tensor(
    Float32Array.from({ length: size }, () => tMax * rng.normal()),
    [cfg.batch, ...shape],
  );
}

/** What fixes an iteration's teacher states: the teacher, its run, both grids, the noise. */
function targetKey(ctx: SfdContext, teacherSha256: string, plan: IterationPlan): TargetKey {
  const { cfg } = ctx;
  return {
    teacherSha256,
    solver: cfg.teacherSolver,
    threshold: cfg.teacherThreshold,
    teacherAfs: cfg.teacherAfs,
    k: cfg.k,
    n: plan.n,
    schedule: cfg.schedule,
    seed: cfg.seed,
    iteration: plan.iteration,
    batch: cfg.batch,
    shape: ctx.shape,
  };
}

/** The teacher's states at the student's timestamps, with no gradient: solved, or from the cache. */
async function teacherStates(
  ctx: SfdContext,
  plan: IterationPlan,
  xT: tf.Tensor,
  teacher: Denoiser,
): Promise<tf.Tensor[]> {
  const solve = () => teacherTargets(teacher, xT, plan.grid, teacherRunOf(ctx.cfg));
  if (ctx.targets && ctx.teacherId) return ctx.targets(targetKey(ctx, ctx.teacherId, plan), solve);
  return solve();
}

/** The iteration's one read back (on a GPU each read is a round trip): step losses, replaced gradients. */
async function readBack(losses: tf.Scalar[], cleaner: GradientCleaner) {
  const all = tf.tidy(() => tf.concat([tf.stack(losses), cleaner.replacedCount().reshape([1])]));
  const values = await all.data();
  all.dispose();
  return { stepLosses: Array.from(values.subarray(0, losses.length)), nonFiniteGrads: values[losses.length] };
}

/**
 * One SFD iteration (spec §3.2): fresh noise; the teacher's states at the student's timestamps; then the
 * student walks its own coarse grid (`rollout`), and each step that trains gets its own loss, gradient
 * (cleaned of NaN/±∞) and Adam update at learning rate `lr`. The AFS step and steps outside `onlySteps`
 * make no update; their loss is still computed and logged, as the official code does.
 */
export async function sfdIteration(
  ctx: SfdContext,
  iteration: number,
  lr: number,
): Promise<SfdIterationResult> {
  const { cfg } = ctx;
  const plan = planIteration(cfg, iteration); // N (SFD-v draws it), both grids, each step's kind
  const xT = iterationNoise(cfg, iteration, ctx.shape); // x_T = t_max·z, shared by teacher and student
  const teacher = countCalls(ctx.teacher(plan));
  const student = countCalls(ctx.student.denoise);
  const cleaner = gradientCleaner();
  const losses: tf.Scalar[] = [];
  let targets: tf.Tensor[] = [];
  let updates = 0;
  try {
    targets = await teacherStates(ctx, plan, xT, teacher.denoise); // at t_1 … t_{N−1}
    const last = plan.steps.length - 1;
    const walker = { denoise: student.denoise, weights: ctx.student.weights };
    const xEnd = await rollout(walker, xT, plan.steps, {
      loss: (step, x) => sfdStepLoss(cfg.loss, x, targets[step.j], step.j === last, ctx.perceptual),
      // one Adam update per trained step, before the next step runs
      onStep: async (_, { loss, grads }) => {
        if (loss) losses.push(loss);
        if (!grads) return; // the AFS step, or one outside onlySteps
        const clean = await cleaner.clean(grads);
        ctx.adam.apply(clean, lr);
        tf.dispose([...clean.values()]);
        updates++;
      },
    });
    xEnd.dispose();
    const calls = { teacherCalls: teacher.calls(), studentCalls: student.calls() };
    return { iteration, nfe: plan.nfe, updates, ...calls, ...(await readBack(losses, cleaner)) };
  } finally {
    tf.dispose([xT, ...targets, ...losses]);
    cleaner.dispose();
  }
}
