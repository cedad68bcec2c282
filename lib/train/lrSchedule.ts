/**
 * A learning-rate schedule as plain data (saved in configs and cards): a base rate, an optional linear
 * warm-up over the first images (EDM's lr_rampup, the teacher's), and step drops at fractions of the run
 * (SFD's ×0.1 once half of the trajectories are consumed).
 */
export interface LrSchedule {
  /** Base learning rate. */
  lr: number;
  /** Linear warm-up over this many images (0: none). */
  warmupImages: number;
  /**
   * Multiply by `factor` from the step after the one during which `atFraction` of the run's images had been
   * consumed (the official SFD loop checks its counter, not yet updated, at the end of each iteration).
   */
  drops: { atFraction: number; factor: number }[];
}

/** Where a run stands when a step's learning rate is chosen. */
export interface LrPoint {
  /** Zero-based step (or SFD iteration). */
  step: number;
  /** Images (or trajectories) per step. */
  batch: number;
  /** Steps in the whole run (for the drops). */
  steps: number;
}

/** The first step that runs at the dropped rate of `drop` in a run of `steps` steps. */
export function dropStep(drop: { atFraction: number }, steps: number): number {
  return Math.ceil(drop.atFraction * steps) + 1;
}

export function checkLrSchedule(s: LrSchedule): void {
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) throw new RangeError(`learning rate must be > 0, got ${s.lr}`);
  if (!(s.warmupImages >= 0)) throw new RangeError(`warm-up must be ≥ 0 images, got ${s.warmupImages}`);
  for (const d of s.drops)
    if (!(d.atFraction >= 0 && d.atFraction <= 1) || !(d.factor > 0))
      throw new RangeError(
        `learning-rate drop needs 0 ≤ atFraction ≤ 1 and factor > 0, got ${JSON.stringify(d)}`,
      );
}

/**
 * The rate of one step: warm-up counts the images including this step's (EDM); a drop applies from step
 * s + 1 on, where s is the first step whose images consumed before it (s·batch) reach the drop's fraction of
 * the run: the official SFD loop runs iteration s, then compares its not-yet-updated counter s·batch.
 */
export function learningRateAt(s: LrSchedule, p: LrPoint): number {
  const warm = s.warmupImages > 0 ? Math.min(1, ((p.step + 1) * p.batch) / s.warmupImages) : 1;
  let lr = s.lr * warm;
  const checkedBefore = (p.step - 1) * p.batch; // the counter the previous step's end-of-iteration check saw
  for (const d of s.drops)
    if (p.step >= 1 && checkedBefore >= d.atFraction * p.steps * p.batch) lr *= d.factor;
  return lr;
}
