import { type TeacherGrid, teacherGrid } from '../diffusion/schedules';
import { makeRng, type Rng } from '../util/rng';
import { type SfdConfig, studentTimestamps } from './config';
import { type StudentStep, studentSteps } from './studentSteps';

/** What one SFD iteration does, as plain data: a pure function of (config, iteration). */
export interface IterationPlan {
  iteration: number;
  nfe: number;
  /** N, the student's timestamps (official num_steps). */
  n: number;
  /** Teacher grid with K steps per student interval; `studentTs` is the student's grid. */
  grid: TeacherGrid;
  /** The student's N−1 steps: which one is AFS, which train (all others, or only `onlySteps`), their condition. */
  steps: StudentStep[];
}

/** The iteration's random source (noise, SFD-v's draw of N): a pure function of (seed, iteration). */
export function iterationRng(seed: number, iteration: number): Rng {
  return makeRng((Math.imul(iteration + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x7feb352d)) >>> 0);
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
  const steps = studentSteps(grid.studentTs, cfg.afs, cfg.condition, cfg.onlySteps ?? 'all');
  return { iteration, nfe, n, grid, steps };
}
