import { writeFileSync } from 'node:fs';
import type { ScheduleConfig } from '../diffusion/schedules';
import { exactEndpoints, meanDistance, solveToy, toyNoise } from '../experiments/toySolve';
import { TOY_MIXTURES } from '../models/toys';

export interface SampleConfig {
  /** Toy teacher name (gmm2d, ring, grid). */
  teacher: string;
  solver: string;
  nfe: number;
  afs: boolean;
  rho: number;
  tMin: number;
  tMax: number;
  seed: number;
  n: number;
  /** Also integrate the exact ODE (float64 RK4) from the same noise and report the endpoint error. */
  exact: boolean;
  /** Dynamic thresholding of x0 predictions (DPM-Solver++ only). */
  threshold: boolean;
}

export const sampleDefaults: SampleConfig = {
  teacher: 'gmm2d',
  solver: 'dpmpp-3m',
  nfe: 4,
  afs: false,
  rho: 7,
  tMin: 0.006,
  tMax: 80,
  seed: 0,
  n: 1000,
  exact: false,
  threshold: false,
};

export interface SampleResult {
  config: SampleConfig;
  /** The solver's timestamps. */
  ts: number[];
  /** Denoiser calls actually made. */
  nfe: number;
  /** [timestamp][sample][dim]: the state at every timestamp, noise first, samples last. */
  trajectory: number[][][];
  samples: number[][];
  /** With `exact`: the exact ODE endpoints and the mean Euclidean distance to them. */
  exactSamples?: number[][];
  meanEndpointError?: number;
}

/** Samples a toy teacher with one solver at a given NFE, keeping the trajectory at the solver's timestamps. */
export function sampleToy(cfg: SampleConfig): SampleResult {
  const make = TOY_MIXTURES[cfg.teacher];
  if (!make)
    throw new RangeError(`unknown teacher '${cfg.teacher}' (known: ${Object.keys(TOY_MIXTURES).join(', ')})`);
  if (!Number.isInteger(cfg.n) || cfg.n < 1)
    throw new RangeError(`--n must be a positive integer, got ${cfg.n}`);
  const gmm = make();
  const schedule: ScheduleConfig = { kind: 'polynomial', rho: cfg.rho, tMin: cfg.tMin, tMax: cfg.tMax };
  const noise = toyNoise(cfg.n, gmm.means[0].length, cfg.tMax, cfg.seed);
  const r = solveToy(gmm, noise, cfg.solver, cfg.nfe, cfg.afs, schedule, { threshold: cfg.threshold });
  const samples = r.trajectory[r.trajectory.length - 1];
  const out: SampleResult = { config: cfg, ts: r.ts, nfe: r.nfe, trajectory: r.trajectory, samples };
  if (cfg.exact) {
    out.exactSamples = exactEndpoints(gmm, noise, schedule);
    out.meanEndpointError = meanDistance(samples, out.exactSamples);
  }
  return out;
}

export function writeSampleJson(path: string, r: SampleResult): void {
  writeFileSync(path, `${JSON.stringify(r)}\n`);
}
