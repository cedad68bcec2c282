import { type ScheduleConfig, timeGrid } from '../diffusion/schedules';
import { checkIpndmOrder } from '../diffusion/solvers/ipndm';
import { solverByName } from '../diffusion/solvers/registry';
import { amedNfe } from './amedPlugin';
import { amedPredictorDefaults, checkAmedPredictorConfig } from './amedPredictor';

/** Every knob of an AMED-Plugin(iPNDM) run, with the official CIFAR-10 plugin setting (official names in brackets). */
export interface AmedConfig {
  /** Student grid points N [num_steps]; NFE = 2(N − 1) − [afs]: 4 with AFS gives NFE 5. */
  numSteps: number;
  /** Teacher steps inserted per student interval [M]: the teacher solves on (M + 1)(N − 1) + 1 points. */
  m: number;
  /** Teacher solver on that grid [sampler_tea], from the registry; never with AFS (as the official). */
  teacherSolver: string;
  /** Analytical first step: the student's first call is AFS's answer, and its feature is zero [afs]. */
  afs: boolean;
  /** Highest Adams–Bashforth order of the student's steps [max_order]. */
  maxOrder: number;
  /** a_n ∈ [1 − scaleTime, 1 + scaleTime] [scale_time]. */
  scaleTime: number;
  /** c_n ∈ [1 − scaleDir, 1 + scaleDir] [scale_dir]. */
  scaleDir: number;
  /** Schedule of both grids [schedule_type, schedule_rho; EDM's sigma_min 0.002, sigma_max 80]. */
  schedule: ScheduleConfig;
  /** Adam's learning rate, constant [lr; train.py: 5e-3]. */
  lr: number;
  /** Trajectories per iteration [batch; official 128]. */
  batch: number;
  /** Iterations (official 10 kimg: 78 at batch 128, 313 at batch 32). */
  iterations: number;
  seed: number;
  /** Iterations between checkpoints. */
  checkpointEvery: number;
}

export const amedDefaults: AmedConfig = {
  numSteps: 4,
  m: 2,
  teacherSolver: 'ipndm',
  afs: true,
  maxOrder: 4,
  scaleTime: amedPredictorDefaults.scaleTime,
  scaleDir: amedPredictorDefaults.scaleDir,
  schedule: { kind: 'polynomial', rho: 7, tMin: 0.002, tMax: 80 },
  lr: 5e-3,
  batch: 32,
  iterations: 313,
  seed: 0,
  checkpointEvery: 50,
};

/** Fails at once, with a one-line reason, on a configuration no run could carry out. */
export function checkAmedConfig(c: AmedConfig): void {
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  };
  amedNfe(c.numSteps, c.afs); // throws below 2 grid points
  posInt(c.m + 1, 'M + 1 (teacher steps per student step)');
  posInt(c.batch, 'batch');
  posInt(c.iterations, 'iterations');
  posInt(c.checkpointEvery, 'checkpointEvery');
  checkIpndmOrder(c.maxOrder);
  solverByName(c.teacherSolver);
  checkAmedPredictorConfig({
    ...amedPredictorDefaults,
    featureDim: 1,
    scaleTime: c.scaleTime,
    scaleDir: c.scaleDir,
  });
  if (!(c.lr > 0)) throw new RangeError(`learning rate must be > 0, got ${c.lr}`);
  timeGrid((c.m + 1) * (c.numSteps - 1) + 1, c.schedule); // throws on a bad schedule
}
