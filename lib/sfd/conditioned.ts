import type { Denoiser } from '../diffusion/denoiser';
import type { StepCondition } from './config';
import { studentCondition } from './studentSteps';

/**
 * A step-conditioned student as a plain Denoiser on its grid `ts`: each call at ts[j] gets the condition
 * of step j (N for `step`, ts[j+1] for `tnext`), so any solver (Euler for sampling, the stage-2 teacher
 * run) can drive it. Calls off the grid are refused: the student was only trained at its own timestamps.
 */
export function conditionedDenoiser(d: Denoiser, condition: StepCondition, ts: readonly number[]): Denoiser {
  if (condition === 'none') return d;
  return (x, t) => {
    const j = ts.indexOf(t);
    if (j < 0 || j === ts.length - 1)
      throw new RangeError(
        `a ${condition}-conditioned student is called at t = ${t}, not one of its grid's steps`,
      );
    return d(x, t, studentCondition(condition, ts, j));
  };
}
