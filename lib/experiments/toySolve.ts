import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import { countCalls } from '../diffusion/denoiser';
import { type SamplingSchedule, timeGrid } from '../diffusion/schedules';
import { solverByName, stepsForNfe } from '../diffusion/solvers/registry';
import { type Gmm, gmmDenoiser, gmmOdeSolution } from '../models/gmm';
import { makeRng } from '../util/rng';

export interface ToySolveResult {
  /** The solver's timestamps (the schedule's grid with as many steps as the NFE allows). */
  ts: number[];
  /** Denoiser calls actually made (AFS's analytic answer is not a call). */
  nfe: number;
  /** [timestamp][sample][dim]. */
  trajectory: number[][][];
}

/** Solves the PF-ODE of a mixture from given noise states x_T (at schedule.tMax) with a named solver at an NFE. */
export function solveToy(
  gmm: Gmm,
  xT: number[][],
  solver: string,
  nfe: number,
  afs: boolean,
  schedule: SamplingSchedule,
  opts: { threshold?: boolean } = {},
): ToySolveResult {
  const entry = solverByName(solver);
  if (opts.threshold && !entry.thresholds)
    throw new RangeError(
      `${entry.name} has no dynamic thresholding (only the data-prediction solvers DPM-Solver++ and UniPC do)`,
    );
  const ts = timeGrid(stepsForNfe(entry, nfe, afs) + 1, schedule);
  const counted = countCalls(gmmDenoiser(gmm));
  const denoise = afs ? withAfs(counted.denoise, ts[0]) : counted.denoise;
  const x = tf.tensor2d(xT);
  const r = entry.solve(denoise, x, ts, { keep: 'all', threshold: opts.threshold });
  const trajectory = r.trajectory.map((s) => s.arraySync() as number[][]);
  tf.dispose([x, r.x, ...r.trajectory]);
  return { ts, nfe: counted.calls(), trajectory };
}

/**
 * Noise states x_T = tMax·z, z ~ N(0, I), reproducible from the seed on every backend. (A plain-JS source:
 * tf.randomNormal treats seed 0 as "unseeded".)
 */
export function toyNoise(n: number, dim: number, tMax: number, seed: number): number[][] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => tMax * rng.normal()));
}

/** Exact ODE endpoints at tMin from each x_T (float64 RK4 reference). */
export function exactEndpoints(gmm: Gmm, xT: number[][], schedule: SamplingSchedule): number[][] {
  return xT.map((z) => gmmOdeSolution(gmm, z, schedule.tMax, [schedule.tMin])[0]);
}

/** Mean Euclidean distance between matched rows. */
export function meanDistance(a: number[][], b: number[][]): number {
  if (a.length !== b.length) throw new RangeError(`meanDistance: ${a.length} vs ${b.length} rows`);
  return a.reduce((acc, p, i) => acc + Math.hypot(...p.map((v, j) => v - b[i][j])), 0) / a.length;
}
