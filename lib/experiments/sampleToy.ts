import {
  defaultSchedule,
  type ExplicitSchedule,
  type SamplingSchedule,
  type ScheduleConfig,
} from '../diffusion/schedules';
import { TOY_MIXTURES } from '../models/toys';
import { writeFileAtomic } from '../util/atomicWrite';
import { checkMemory, formatBytes, MAX_STRING_LENGTH } from '../util/memoryBudget';
import { exactEndpoints, meanDistance, solveToy, toyNoise } from './toySolve';

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
  /** Dynamic thresholding of x0 predictions (DPM-Solver++ and UniPC). */
  threshold: boolean;
  /** An explicit σ grid (a schedule file's) used instead of the polynomial one from rho, tMin, tMax. */
  schedule?: ExplicitSchedule;
}

export const sampleDefaults: SampleConfig = {
  teacher: 'gmm2d',
  solver: 'dpmpp-3m',
  nfe: 4,
  afs: false,
  rho: defaultSchedule.rho,
  tMin: defaultSchedule.tMin,
  tMax: defaultSchedule.tMax,
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

/** Characters per number in the JSON output (a double printed in full, a comma). */
const JSON_CHARS_PER_NUMBER = 22;

/**
 * Refuses, before any work, a toy request whose output (every sample at every timestamp, as one JSON
 * string) cannot be held: V8's longest string, or half this machine's memory.
 */
function checkToyRequest(cfg: SampleConfig, dim: number): void {
  const numbers = (cfg.nfe + 1 + (cfg.exact ? 2 : 1)) * cfg.n * dim;
  const chars = numbers * JSON_CHARS_PER_NUMBER;
  const what = `sample --n ${cfg.n} --nfe ${cfg.nfe} (a trajectory of ${numbers.toExponential(1)} numbers)`;
  if (chars > MAX_STRING_LENGTH)
    throw new RangeError(
      `${what} writes about ${formatBytes(chars)} of JSON, more than one JSON file can hold here (${formatBytes(MAX_STRING_LENGTH)}); lower --n or --nfe`,
    );
  // the states as JS arrays, their float32 tensors and the JSON text
  checkMemory(what, numbers * 40, 'lower --n or --nfe');
}

/** Samples a toy teacher with one solver at a given NFE, keeping the trajectory at the solver's timestamps. */
export function sampleToy(cfg: SampleConfig): SampleResult {
  const make = TOY_MIXTURES[cfg.teacher];
  if (!make)
    throw new RangeError(
      `unknown teacher '${cfg.teacher}': one of ${Object.keys(TOY_MIXTURES).join(', ')} (toy), mnist, or a model directory (DIR/model.json)`,
    );
  if (!Number.isInteger(cfg.n) || cfg.n < 1)
    throw new RangeError(`--n must be a positive integer, got ${cfg.n}`);
  const gmm = make();
  checkToyRequest(cfg, gmm.means[0].length);
  const polynomial: ScheduleConfig = { kind: 'polynomial', rho: cfg.rho, tMin: cfg.tMin, tMax: cfg.tMax };
  const schedule: SamplingSchedule = cfg.schedule ?? polynomial;
  const noise = toyNoise(cfg.n, gmm.means[0].length, schedule.tMax, cfg.seed);
  const r = solveToy(gmm, noise, cfg.solver, cfg.nfe, cfg.afs, schedule, { threshold: cfg.threshold });
  const samples = r.trajectory[r.trajectory.length - 1];
  const out: SampleResult = { config: cfg, ts: r.ts, nfe: r.nfe, trajectory: r.trajectory, samples };
  if (cfg.exact) {
    out.exactSamples = exactEndpoints(gmm, noise, schedule);
    out.meanEndpointError = meanDistance(samples, out.exactSamples);
  }
  return out;
}

/** Writes a toy sampling result (config, timestamps, trajectory, samples) as one JSON file. */
export function writeSampleJson(path: string, r: SampleResult): void {
  writeFileAtomic(path, `${JSON.stringify(r)}\n`);
}
