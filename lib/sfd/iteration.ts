import * as tf from '@tensorflow/tfjs';
import { countCalls, type Denoiser } from '../diffusion/denoiser';
import { onGpu } from '../runtime/backend';
import type { Adam } from '../train/adam';
import { addMany } from '../util/addMany';
import type { SfdConfig } from './config';
import { type IterationPlan, iterationRng, planIteration } from './plan';
import { type PerceptualDistance, sfdStepLoss } from './stepLoss';
import { finiteCheck, type Student, sanitizeGrads, studentStep } from './studentStep';
import type { TargetKey, TargetSource } from './targetCache';
import { type TeacherRun, teacherTargets } from './targets';

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

export function teacherRunOf(cfg: SfdConfig): TeacherRun {
  return { solver: cfg.teacherSolver, threshold: cfg.teacherThreshold, afs: cfg.teacherAfs };
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

/**
 * One SFD iteration (spec §3.2): fresh noise; the teacher's states at the student's timestamps; then the
 * student walks its own coarse grid with Euler steps, each from its own previous output (detached), and
 * each step that calls the network gets its own loss, gradient and Adam update at learning rate `lr`.
 * The AFS step and steps outside `onlySteps` make no update (their loss is still computed).
 * On a GPU nothing is read back before the iteration's end: gradients are always cleaned of NaN/±∞ on
 * the device; on the CPU one cheap finite check per step decides whether cleaning is needed.
 */
export async function sfdIteration(
  ctx: SfdContext,
  iteration: number,
  lr: number,
): Promise<SfdIterationResult> {
  const { cfg } = ctx;
  const plan = planIteration(cfg, iteration);
  const xT = iterationNoise(cfg, iteration, ctx.shape);
  const teacher = countCalls(ctx.teacher(plan));
  const student = countCalls(ctx.student.denoise);
  const s: Student = { denoise: student.denoise, weights: ctx.student.weights };
  const solve = () => teacherTargets(teacher.denoise, xT, plan.grid, teacherRunOf(cfg));
  let targets: tf.Tensor[];
  try {
    targets =
      ctx.targets && ctx.teacherId ? await ctx.targets(targetKey(ctx, ctx.teacherId, plan), solve) : solve();
  } catch (e) {
    xT.dispose();
    throw e;
  }
  const losses: tf.Scalar[] = [];
  const replaced: tf.Scalar[] = [];
  const gpu = onGpu();
  let updates = 0;
  let x = xT;
  try {
    const ts = plan.grid.studentTs;
    for (let j = 0; j < ts.length - 1; j++) {
      const last = j === ts.length - 2;
      const mode = cfg.afs && j === 0 ? 'afs' : plan.trains[j] ? 'train' : 'forward';
      const r = studentStep(
        s,
        x,
        ts[j],
        ts[j + 1],
        plan.conds[j],
        (out) => sfdStepLoss(cfg.loss, out, targets[j], last, ctx.perceptual),
        mode,
      );
      losses.push(r.loss);
      if (r.grads) {
        let grads = r.grads;
        if (gpu) {
          const clean = sanitizeGrads(grads);
          grads = clean.grads;
          replaced.push(clean.replaced);
        } else {
          const check = finiteCheck(grads);
          const finite = Number.isFinite((await check.data())[0]);
          check.dispose();
          if (!finite) {
            const clean = sanitizeGrads(grads);
            grads = clean.grads;
            replaced.push(clean.replaced);
          }
        }
        ctx.adam.apply(grads, lr);
        tf.dispose([...grads.values()]);
        updates++;
      }
      x.dispose();
      x = r.out;
    }
    // the iteration's one read back: its step losses and the count of replaced gradient elements
    const all = tf.tidy(() => {
      const counts = [tf.scalar(0), ...replaced.map((n) => n.cast('float32'))];
      return tf.concat([tf.stack(losses), addMany(counts).reshape([1])]);
    });
    const values = await all.data();
    all.dispose();
    const stepLosses = Array.from(values.subarray(0, losses.length));
    const nonFinite = values[losses.length];
    return {
      iteration,
      nfe: plan.nfe,
      stepLosses,
      updates,
      teacherCalls: teacher.calls(),
      studentCalls: student.calls(),
      nonFiniteGrads: nonFinite,
    };
  } finally {
    tf.dispose([x, ...targets, ...losses, ...replaced]);
  }
}
