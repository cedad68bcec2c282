import { polynomialGrid, type ScheduleConfig } from '../diffusion/schedules';
import { checkLrSchedule, type LrSchedule } from '../train/lrSchedule';
import type { CdSampling } from './consistencySampler';

/** The distance d(f_θ(x_n, σ_n), f_θ⁻(x̂_{n+1}, σ_{n+1})) of the loss. */
export type CdLossKind = 'l2' | 'lpips';
export const CD_LOSSES: readonly CdLossKind[] = ['l2', 'lpips'];

/** Every knob of a consistency-distillation run (official names and values in the notes, §6). */
export interface CdConfig {
  /** N, the points of the ρ-polynomial σ grid from tMax to tMin (CMJ CIFAR: 18). */
  nGrid: number;
  /** The grid's σ range and ρ; tMin is also σ_min, where f(x, σ_min) = x (CM: 0.002, 80, 7). */
  schedule: ScheduleConfig;
  loss: CdLossKind;
  /** μ, the target network's EMA rate (CMJ CIFAR: 0, the online weights with stop-gradient). */
  targetEma: number;
  /**
   * The sampling EMA's rate per iteration once ramped up (lib/train/ema.ts: half-life
   * batch·ln ½ / ln rate images, reached after EDM's ramp-up of `emaRampUp`·images seen). Its weights are
   * the shipped model. 0: the online weights. Default 0.999 (half-life 11k images at batch 16): in runs
   * shorter than ~14k iterations the ramp-up (half-life 5% of the images seen) is what applies, so the
   * average never reaches back to the teacher-like start (CMJ CIFAR: 0.9999 over 800k iterations).
   */
  ema: number;
  emaRampUp: number;
  /** Adam (the official optimiser is RAdam, constant 4e-4 at batch 512). */
  lr: LrSchedule;
  batch: number;
  iterations: number;
  seed: number;
  checkpointEvery: number;
  /** The 2-step sampler's second σ point (the first is tMax). */
  midTau: number;
}

export const cdDefaults: CdConfig = {
  nGrid: 18,
  schedule: { kind: 'polynomial', rho: 7, tMin: 0.002, tMax: 80 },
  loss: 'l2',
  targetEma: 0,
  ema: 0.999,
  emaRampUp: 0.05,
  // measured on the MNIST teacher, batch 16, FID (N = 500) at 1 NFE after 400 iterations: 2e-5 444, 1e-4 78,
  // 4e-4 62, 1e-3 55 (143 at 200: unsteady); 4e-4 is also the official CIFAR rate
  lr: { lr: 4e-4, warmupImages: 0, drops: [] },
  batch: 16,
  iterations: 2000,
  seed: 0,
  checkpointEvery: 100,
  // σ_10 of the 18-point grid: CM's ternary search on held-out FID (N = 500) after 1500 iterations at 4e-4
  // chose it (FID 29.5; 0.59: 34.5, 1.92: 31.2, 0.14: 38.8, 3.26: 39.0)
  midTau: 1.088,
};

/** Fails at once, with a one-line reason, on a configuration no run could carry out. */
export function checkCdConfig(c: CdConfig): void {
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  };
  if (!Number.isInteger(c.nGrid) || c.nGrid < 2)
    throw new RangeError(`consistency distillation needs a grid of N ≥ 2 points, got ${c.nGrid}`);
  if (c.schedule.kind !== 'polynomial')
    throw new RangeError(
      `consistency distillation uses the ρ-polynomial (Karras) grid, not '${c.schedule.kind}'`,
    );
  polynomialGrid(c.nGrid, c.schedule.tMin, c.schedule.tMax, c.schedule.rho); // throws on a bad range or ρ
  if (!CD_LOSSES.includes(c.loss))
    throw new RangeError(`unknown loss '${c.loss}' (known: ${CD_LOSSES.join(', ')})`);
  if (!(c.targetEma >= 0 && c.targetEma < 1))
    throw new RangeError(`the target EMA rate μ must be in [0, 1), got ${c.targetEma}`);
  if (!(c.ema >= 0 && c.ema < 1))
    throw new RangeError(`the sampling EMA rate must be in [0, 1), got ${c.ema}`);
  if (!(c.emaRampUp > 0)) throw new RangeError(`the EMA ramp-up must be > 0, got ${c.emaRampUp}`);
  checkLrSchedule(c.lr);
  posInt(c.batch, 'batch');
  posInt(c.iterations, 'iterations');
  posInt(c.checkpointEvery, 'checkpointEvery');
  if (!Number.isInteger(c.seed) || c.seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${c.seed}`);
  if (!(c.midTau > c.schedule.tMin && c.midTau < c.schedule.tMax))
    throw new RangeError(
      `the 2-step sampler's middle σ must lie strictly between σ_min = ${c.schedule.tMin} and σ_max = ${c.schedule.tMax}, got ${c.midTau}`,
    );
}

/** The run's σ grid, decreasing: σ_0 = tMax … σ_{N−1} = tMin. */
export function cdGrid(c: CdConfig): number[] {
  return polynomialGrid(c.nGrid, c.schedule.tMin, c.schedule.tMax, c.schedule.rho);
}

/** How the trained model samples: [tMax] at 1 NFE, [tMax, midTau] at 2. */
export function cdSamplingOf(c: CdConfig): CdSampling {
  return { taus1: [c.schedule.tMax], taus2: [c.schedule.tMax, c.midTau] };
}
