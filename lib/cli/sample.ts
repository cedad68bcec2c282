import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import { teacherGrid } from '../diffusion/schedules';
import { solverByName, stepsForNfe } from '../diffusion/solvers/registry';
import { gmmDenoiser, gmmOdeSolution } from '../models/gmm';
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
  const solver = solverByName(cfg.solver);
  const steps = stepsForNfe(solver, cfg.nfe, cfg.afs);
  const { ts } = teacherGrid(steps + 1, 1, {
    kind: 'polynomial',
    rho: cfg.rho,
    tMin: cfg.tMin,
    tMax: cfg.tMax,
  });
  let calls = 0;
  const base = gmmDenoiser(gmm);
  const counted: typeof base = (x, t) => {
    calls++;
    return base(x, t);
  };
  const denoise = cfg.afs ? withAfs(counted, ts[0]) : counted;
  // AFS answers without calling the counted denoiser, so `calls` is the true NFE.
  const x0 = tf.randomNormal([cfg.n, gmm.means[0].length], 0, ts[0], 'float32', cfg.seed);
  const res = solver.solve(denoise, x0, ts, { keep: 'all' });
  const trajectory = res.trajectory.map((s) => s.arraySync() as number[][]);
  tf.dispose([x0, res.x, ...res.trajectory]);
  const samples = trajectory[trajectory.length - 1];
  const out: SampleResult = { config: cfg, ts, nfe: calls, trajectory, samples };
  if (cfg.exact) {
    out.exactSamples = trajectory[0].map((z) => gmmOdeSolution(gmm, z, ts[0], [ts[ts.length - 1]])[0]);
    out.meanEndpointError =
      samples.reduce(
        (acc, s, i) => acc + Math.hypot(...s.map((v, j) => v - (out.exactSamples as number[][])[i][j])),
        0,
      ) / cfg.n;
  }
  return out;
}

export function writeSampleJson(path: string, r: SampleResult): void {
  writeFileSync(path, `${JSON.stringify(r)}\n`);
}
