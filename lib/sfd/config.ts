import {
  defaultSchedule,
  type SamplingSchedule,
  type ScheduleConfig,
  timeGrid,
} from '../diffusion/schedules';
import { solverByName } from '../diffusion/solvers/registry';
import { checkLrSchedule, type LrSchedule } from '../train/lrSchedule';
import { isAfsStep } from './studentSteps';

/** What a student step is trained to minimise against the teacher's state (spec §3.3, §5). */
export type SfdLossKind = 'l1' | 'l2' | 'lpips' | 'l1+lpips';
export const SFD_LOSSES: readonly SfdLossKind[] = ['l1', 'l2', 'lpips', 'l1+lpips'];

/**
 * SFD-v's second condition: none (plain SFD), `step` = N, the number of student timestamps, constant along
 * the trajectory (the official choice), or `tnext` = the step's next timestamp (the paper's alternative).
 */
export type StepCondition = 'none' | 'step' | 'tnext';
export const STEP_CONDITIONS: readonly StepCondition[] = ['none', 'step', 'tnext'];

/** Every knob of an SFD run, with the paper's defaults (official names in brackets). */
export interface SfdConfig {
  /** Student NFEs: one for SFD, several for SFD-v (one drawn per iteration; official 2, 3, 4, 5). */
  nfes: number[];
  /** The student's extra condition (SFD-v needs `step` or `tnext`). */
  condition: StepCondition;
  /** Teacher steps per student step, K = official M + 1 (official default M = 3). */
  k: number;
  /** Teacher solver on the K·(N−1)+1-point grid [sampler_tea]. */
  teacherSolver: string;
  /** Dynamic thresholding of the teacher's x0 predictions (the official DPM-Solver++ does it). */
  teacherThreshold: boolean;
  /** AFS on the teacher's first step: off in stage 1; stage 2 inherits its stage-1 teacher's. */
  teacherAfs: boolean;
  /**
   * Schedule of both grids [schedule_type, schedule_rho, sigma_min = 0.006, sigma_max = 80], or an explicit
   * (searched, e.g. GITS) student grid that the teacher's refines (one NFE only).
   */
  schedule: SamplingSchedule;
  /** Analytical first step for the student: its first step makes no network call and no update [afs]. */
  afs: boolean;
  /** Loss of each student step; `l1+lpips` adds the LPIPS-style term on the last step only (stage 2). */
  loss: SfdLossKind;
  /** Learning rate (official 5e-5 on CIFAR-10, ×0.1 at half of training; stage 2: 5e-4). */
  lr: LrSchedule;
  /** Trajectories per iteration [batch; official 128]. */
  batch: number;
  /** Iterations (official total_kimg·1000 / batch: 1563 for SFD on CIFAR-10). */
  iterations: number;
  seed: number;
  /** Fine-tune only these student steps (0-based step indices; the timestamp-transfer experiment). */
  onlySteps: number[] | null;
  /** Iterations between checkpoints. */
  checkpointEvery: number;
}

export const sfdDefaults: SfdConfig & { schedule: ScheduleConfig } = {
  nfes: [2],
  condition: 'none',
  k: 4,
  teacherSolver: 'dpmpp-3m',
  teacherThreshold: true,
  teacherAfs: false,
  schedule: { ...defaultSchedule }, // SFD's: polynomial ρ = 7, t 0.006…80
  afs: true,
  loss: 'l1',
  lr: { lr: 5e-4, warmupImages: 0, drops: [{ atFraction: 0.5, factor: 0.1 }] }, // measured: scripts/sfd-lr-sweep.sh (README)
  batch: 16,
  iterations: 600,
  seed: 0,
  onlySteps: null,
  checkpointEvery: 50,
};

/**
 * Stage 2's defaults where the official recipe differs from stage 1 (spec §5): 1 NFE, L1 + LPIPS-style on the
 * last step, lr 5e-4 (the official stage-2 rate, 10× its stage-1 rate; not swept here).
 */
export const stage2Defaults: Pick<SfdConfig, 'nfes' | 'loss' | 'lr'> = {
  nfes: [1],
  loss: 'l1+lpips',
  lr: { lr: 5e-4, warmupImages: 0, drops: [{ atFraction: 0.5, factor: 0.1 }] },
};

/** N, the number of student timestamps (official num_steps), for an NFE: NFE + 1, one more with AFS. */
export function studentTimestamps(nfe: number, afs: boolean): number {
  return nfe + 1 + (afs ? 1 : 0);
}

/** Fails at once, with a one-line reason, on a configuration no run could carry out. */
export function checkSfdConfig(c: SfdConfig): void {
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  };
  if (!Array.isArray(c.nfes) || c.nfes.length === 0)
    throw new RangeError('SFD needs at least one student NFE');
  for (const n of c.nfes) posInt(n, 'student NFE');
  if (new Set(c.nfes).size !== c.nfes.length)
    throw new RangeError(`student NFEs repeat: ${c.nfes.join(', ')}`);
  if (!STEP_CONDITIONS.includes(c.condition))
    throw new RangeError(`unknown condition '${c.condition}' (known: ${STEP_CONDITIONS.join(', ')})`);
  if (c.nfes.length > 1 && c.condition === 'none')
    throw new RangeError(
      `SFD-v (NFEs ${c.nfes.join(', ')}) needs a step-conditioned student: condition step or tnext`,
    );
  posInt(c.k, 'K (teacher steps per student step)');
  posInt(c.batch, 'batch');
  posInt(c.iterations, 'iterations');
  posInt(c.checkpointEvery, 'checkpointEvery');
  if (!SFD_LOSSES.includes(c.loss))
    throw new RangeError(`unknown loss '${c.loss}' (known: ${SFD_LOSSES.join(', ')})`);
  checkLrSchedule(c.lr);
  const solver = solverByName(c.teacherSolver);
  if (c.teacherThreshold && !solver.thresholds)
    throw new RangeError(
      `teacher ${solver.name} has no dynamic thresholding (only the data-prediction solvers DPM-Solver++ and UniPC do)`,
    );
  if (c.schedule.kind === 'explicit' && c.nfes.length > 1)
    throw new RangeError(
      `an explicit (${c.schedule.method}) schedule is one grid for one NFE; SFD-v (NFEs ${c.nfes.join(', ')}) needs a parametric one`,
    );
  for (const nfe of c.nfes) {
    const n = studentTimestamps(nfe, c.afs);
    timeGrid(n, c.schedule); // throws on a bad schedule (an explicit one of another length too)
    // the teacher runs K·(N−1) steps; a multistep teacher needs no more, a 2-call one spends twice that
    if (c.teacherAfs && c.k * (n - 1) < 2)
      throw new RangeError(`a teacher with AFS needs at least 2 steps, got K·(N−1) = ${c.k * (n - 1)}`);
  }
  if (c.onlySteps) {
    if (c.onlySteps.length === 0)
      throw new RangeError('only-steps: no step to fine-tune (give at least one)');
    // SFD-v: a step index must exist on every drawn grid, so the smallest N bounds it
    const maxSteps = Math.min(...c.nfes.map((nfe) => studentTimestamps(nfe, c.afs) - 1));
    for (const j of c.onlySteps) {
      if (!Number.isInteger(j) || j < 0 || j >= maxSteps)
        throw new RangeError(`only-steps: step ${j} outside 0…${maxSteps - 1} (the student's steps)`);
      if (isAfsStep(j, c.afs))
        throw new RangeError(
          'only-steps: step 0 is the analytical first step (AFS): it has nothing to train',
        );
    }
  }
}
