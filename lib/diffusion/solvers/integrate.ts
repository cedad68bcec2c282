import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '../denoiser';

export interface StepInfo {
  /** Index of the step: it goes from ts[i] to ts[i+1]. */
  i: number;
  t: number;
  tNext: number;
  /** The new state at tNext (owned by the solver: clone it to keep it). */
  x: tf.Tensor;
}

export interface SolveOptions {
  /** Grid indices whose states are returned in `trajectory` ('all' = every timestamp, index 0 included). */
  keep?: readonly number[] | 'all';
  /** Conditioning passed to every denoiser call. */
  cond?: Conditioning;
  /** Called after each step (progress, plots). */
  onStep?: (s: StepInfo) => void;
}

export interface SolveResult {
  /** State at the last timestamp; owned by the caller. */
  x: tf.Tensor;
  /** States at the `keep` indices, in grid order; owned by the caller. */
  trajectory: tf.Tensor[];
  /** The grid indices of `trajectory`. */
  indices: number[];
}

/** A solver integrates the PF-ODE along the decreasing grid `ts`, starting from x at ts[0]. */
export type Solver<O = object> = (
  denoise: Denoiser,
  x: tf.Tensor,
  ts: readonly number[],
  opts?: SolveOptions & O,
) => SolveResult;

/** One step from ts[i] to ts[i+1]; multistep solvers keep their history in the closure. */
export interface Stepper {
  step(x: tf.Tensor, i: number): tf.Tensor;
  /** Frees whatever the stepper kept (multistep history). */
  dispose?(): void;
}

/** Throws a clear error unless ts is a strictly decreasing grid of ≥ 2 positive, finite times. */
export function checkGrid(ts: readonly number[]): void {
  if (ts.length < 2) throw new RangeError(`solver grid needs at least 2 timestamps, got ${ts.length}`);
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isFinite(ts[i]) || !(ts[i] > 0))
      throw new RangeError(`solver grid times must be finite and > 0; ts[${i}] = ${ts[i]}`);
    if (i > 0 && !(ts[i] < ts[i - 1])) {
      throw new RangeError(
        `solver grid must be strictly decreasing; ts[${i - 1}] = ${ts[i - 1]}, ts[${i}] = ${ts[i]}`,
      );
    }
  }
}

function keptIndices(keep: SolveOptions['keep'], n: number): number[] {
  if (keep === undefined) return [];
  const all = Array.from({ length: n }, (_, i) => i);
  if (keep === 'all') return all;
  for (const i of keep) {
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw new RangeError(`keep index ${i} outside the grid [0, ${n - 1}]`);
  }
  return all.filter((i) => keep.includes(i));
}

/** The loop shared by every solver: steps along the grid, records kept states, frees the rest. */
export function integrate(
  x0: tf.Tensor,
  ts: readonly number[],
  opts: SolveOptions,
  stepper: Stepper,
): SolveResult {
  checkGrid(ts);
  if (x0.rank < 2)
    throw new RangeError(`solver input must be batch-first with rank ≥ 2, got shape [${x0.shape}]`);
  const indices = keptIndices(opts.keep, ts.length);
  const trajectory: tf.Tensor[] = indices.includes(0) ? [x0.clone()] : [];
  let x = x0;
  try {
    for (let i = 0; i < ts.length - 1; i++) {
      const next = stepper.step(x, i);
      if (x !== x0) x.dispose();
      x = next;
      if (indices.includes(i + 1)) trajectory.push(x.clone());
      opts.onStep?.({ i, t: ts[i], tNext: ts[i + 1], x });
    }
  } catch (e) {
    if (x !== x0) x.dispose();
    tf.dispose(trajectory);
    throw e;
  } finally {
    stepper.dispose?.();
  }
  return { x, trajectory, indices };
}
