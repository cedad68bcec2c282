import type { Conditioning } from '../diffusion/denoiser';
import type { StepCondition } from './config';

/**
 * What a student step does: `afs` moves by the analytical first step (no network call, nothing to learn),
 * `train` calls the network and gets a loss gradient and an update, `forward` calls it and only moves on.
 */
export type StepKind = 'afs' | 'train' | 'forward';

/** One Euler step of a student along its grid, from ts[j] to ts[j+1], as plain data. */
export interface StudentStep {
  j: number;
  t: number;
  tNext: number;
  /** The network's extra condition (SFD-v); undefined for plain SFD. */
  cond: Conditioning | undefined;
  kind: StepKind;
}

/** The network steps that learn: all (training), some (`onlySteps`), none (sampling, measuring). */
export type TrainedSteps = 'all' | 'none' | readonly number[];

/** With AFS the student's first step is the analytical one (spec §2): no network call, so no update. */
export function isAfsStep(j: number, afs: boolean): boolean {
  return afs && j === 0;
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

/** The N−1 steps of a student on its grid `ts`: times, condition and kind of each. */
export function studentSteps(
  ts: readonly number[],
  afs: boolean,
  condition: StepCondition,
  trained: TrainedSteps = 'none',
): StudentStep[] {
  const learns = (j: number) => trained === 'all' || (trained !== 'none' && trained.includes(j));
  return ts.slice(0, -1).map((t, j) => ({
    j,
    t,
    tNext: ts[j + 1],
    cond: studentCondition(condition, ts, j),
    kind: isAfsStep(j, afs) ? 'afs' : learns(j) ? 'train' : 'forward',
  }));
}
