import type { Conditioning } from '../diffusion/denoiser';
import { type TeacherGrid, teacherGrid } from '../diffusion/schedules';
import { makeRng, type Rng } from '../util/rng';
import { type SfdConfig, type StepCondition, studentTimestamps } from './config';

/** What one SFD iteration does, as plain data: a pure function of (config, iteration). */
export interface IterationPlan {
  iteration: number;
  nfe: number;
  /** N, the student's timestamps (official num_steps). */
  n: number;
  /** Teacher grid with K steps per student interval; `studentTs` is the student's grid. */
  grid: TeacherGrid;
  /** The student's condition at each of its N−1 steps (undefined for plain SFD). */
  conds: (Conditioning | undefined)[];
  /** Whether student step j gets a loss gradient and an Adam update (not the AFS step, not excluded steps). */
  trains: boolean[];
}

/** The iteration's random source (noise, SFD-v's draw of N): a pure function of (seed, iteration). */
export function iterationRng(seed: number, iteration: number): Rng {
  return makeRng((Math.imul(iteration + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x7feb352d)) >>> 0);
}

/** The condition a student gets on the step from ts[j] to ts[j+1] of its N-point grid. */
export function studentCondition(
  condition: StepCondition,
  ts: readonly number[],
  j: number,
): Conditioning | undefined {
  if (condition === 'step') return { step: ts.length };
  if (condition === 'tnext') return { tNext: ts[j + 1] };
  return undefined;
}

/**
 * SFD-v draws the iteration's NFE uniformly from the list from its own stream (official: Python's
 * `random` seeded with 42), separate from the noise so that plain SFD and SFD-v draw the same noise.
 */
export function planIteration(cfg: SfdConfig, iteration: number): IterationPlan {
  const pick = makeRng((Math.imul(iteration + 1, 0x2c1b3c6d) ^ Math.imul(cfg.seed + 1, 0x297a2d39)) >>> 0);
  const nfe = cfg.nfes.length === 1 ? cfg.nfes[0] : cfg.nfes[Math.floor(pick.uniform() * cfg.nfes.length)];
  const n = studentTimestamps(nfe, cfg.afs);
  const grid = teacherGrid(n, cfg.k, cfg.schedule);
  const steps = n - 1;
  const conds = Array.from({ length: steps }, (_, j) => studentCondition(cfg.condition, grid.studentTs, j));
  const trains = Array.from(
    { length: steps },
    (_, j) => !(cfg.afs && j === 0) && (cfg.onlySteps === null || cfg.onlySteps.includes(j)),
  );
  return { iteration, nfe, n, grid, conds, trains };
}
