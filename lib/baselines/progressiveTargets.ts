import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { SIGMA_DATA } from '../diffusion/precond';
import { type ScheduleConfig, type TeacherGrid, teacherGrid } from '../diffusion/schedules';
import { eulerStep } from '../diffusion/solvers/euler';
import { makeRng, type Rng } from '../util/rng';

/**
 * The pieces of one Progressive Distillation loss term (Salimans & Ho 2022, in EDM's σ-parameterisation as
 * openai/consistency_models_cifar10 writes it; shared/notes/baselines.md §5): the round's grids, the
 * teacher's two Euler steps, the denoiser target that one student step must answer, and its weight.
 */

/** How a loss term is weighted by its noise level σ. */
export type PdWeighting = 'truncated-snr' | 'edm';
export const PD_WEIGHTINGS: readonly PdWeighting[] = ['truncated-snr', 'edm'];

/**
 * w(σ): `truncated-snr` = max(σ⁻², 1), the reference's (CMJ's VE PD; PDG's max(SNR, 1)); `edm` = EDM's
 * λ(σ) = (σ² + σ_d²)/(σ·σ_d)², which is the same σ⁻² at small σ but 1/σ_d² = 4 (not 1) at large σ.
 */
export function pdWeight(kind: PdWeighting, sigma: number): number {
  if (kind === 'edm') return (sigma * sigma + SIGMA_DATA * SIGMA_DATA) / (sigma * SIGMA_DATA) ** 2;
  return Math.max(1 / (sigma * sigma), 1);
}

/**
 * A round's grids: the student's S steps (S + 1 points, `studentTs`) inside the teacher's 2S steps (`ts`):
 * the polynomial grid is uniform in σ^(1/ρ), so the 2S-step grid holds every student point at an even
 * index and the midpoint σ(n + ½) at index 2n + 1. The student grid is `timeGrid(S + 1)`, bit for bit, as
 * its sampler uses.
 */
export function pdRoundGrid(steps: number, schedule: ScheduleConfig): TeacherGrid {
  return teacherGrid(steps + 1, 2, schedule);
}

/**
 * The denoiser output x̃ for which one Euler step from (x_t, t) lands exactly on `xNext` at tNext:
 * x_t + (tNext − t)(x_t − x̃)/t = xNext  ⇔  x̃ = x_t − t·(xNext − x_t)/(tNext − t).
 */
export function eulerInverseTarget(xt: tf.Tensor, t: number, tNext: number, xNext: tf.Tensor): tf.Tensor {
  return tf.tidy(() => xt.sub(xNext.sub(xt).mul(t / (tNext - t))));
}

/** The teacher's two Euler steps σ(n) → σ(n + ½) → σ(n + 1) from x_t (the caller owns the result). */
export function teacherTwoSteps(teacher: Denoiser, xt: tf.Tensor, grid: TeacherGrid, n: number): tf.Tensor {
  const [t, tMid, tNext] = grid.ts.slice(2 * n, 2 * n + 3);
  return tf.tidy(() => eulerStep(teacher, eulerStep(teacher, xt, t, tMid), tMid, tNext));
}

/** PD's target at student step n: the x̃ that makes one student step land on the teacher's two-step point. */
export function pdTarget(teacher: Denoiser, xt: tf.Tensor, grid: TeacherGrid, n: number): tf.Tensor {
  const t = grid.studentTs[n];
  const tNext = grid.studentTs[n + 1];
  return tf.tidy(() => eulerInverseTarget(xt, t, tNext, teacherTwoSteps(teacher, xt, grid, n)));
}

/** The weighted loss of one term: w·mean over pixels and batch of (D_θ(x_t, t) − x̃)². */
export function pdLoss(
  student: Denoiser,
  xt: tf.Tensor,
  t: number,
  target: tf.Tensor,
  weight: number,
): tf.Scalar {
  return tf.tidy(() => student(xt, t).sub(target).square().mean().mul(weight) as tf.Scalar);
}

/** A 32-bit mix of (seed, round, iteration, stream) (murmur3's finaliser over an odd-multiplier sum). */
function mix(seed: number, round: number, iteration: number, stream: number): number {
  let h =
    Math.imul(seed + 1, 0x7feb352d) ^
    Math.imul(round + 1, 0x2c1b3c6d) ^
    Math.imul(iteration + 1, 0x9e3779b1) ^
    Math.imul(stream + 1, 0x297a2d39);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An iteration's draw of the grid index n and the noise ε: a pure function of (seed, round, iteration). */
export function pdNoiseRng(seed: number, round: number, iteration: number): Rng {
  return makeRng(mix(seed, round, iteration, 0));
}

/** An iteration's data draw where the data are sampled (a toy mixture), on a stream of its own. */
export function pdDataRng(seed: number, round: number, iteration: number): Rng {
  return makeRng(mix(seed, round, iteration, 1));
}
