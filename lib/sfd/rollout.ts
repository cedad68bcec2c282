import type * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { studentStep, type Walker } from './studentStep';
import type { StudentStep } from './studentSteps';

/** What the hook sees after a step. */
export interface StepOutcome {
  /** The student's state at step.tNext; the walk owns it (clone it to keep it past the hook). */
  x: tf.Tensor;
  /** The step's loss (the hook owns it), when the walk has a loss. */
  loss: tf.Scalar | null;
  /** d loss / d weight by name on a `train` step (the hook owns them); null otherwise. */
  grads: Map<string, tf.Tensor> | null;
}

export interface RolloutHooks {
  /** Each step's loss from its new state; a `train` step differentiates it with respect to the weights. */
  loss?: (step: StudentStep, x: tf.Tensor) => tf.Scalar;
  /** Called after each step, in order, before the next one runs (training updates the student here). */
  onStep?: (step: StudentStep, outcome: StepOutcome) => void | Promise<void>;
}

/**
 * A student's walk from x_T along its steps, the heart of SFD (spec §3.2): each step is an Euler step from
 * the student's own previous state (AFS on an `afs` step, the step's condition on each network call). Each
 * new state leaves its step as a plain tensor, so no gradient flows from one step into the next. Training,
 * trajectory distances, the trajectory figure and `studentSampler(…).walk` all walk through here (the Euler
 * solver that `sampleImages` runs with a student's sampler gives the same bits: test/sfd/rollout.test.ts).
 * Returns the last state (the caller owns it); xT stays the caller's.
 */
export async function rollout(
  student: Denoiser | Walker,
  xT: tf.Tensor,
  steps: readonly StudentStep[],
  hooks: RolloutHooks = {},
): Promise<tf.Tensor> {
  const walker = typeof student === 'function' ? { denoise: student } : student;
  const { loss, onStep } = hooks;
  let x = xT;
  try {
    for (const step of steps) {
      const r = studentStep(walker, x, step, loss && ((out) => loss(step, out)));
      if (x !== xT) x.dispose();
      x = r.out;
      await onStep?.(step, { x, loss: r.loss, grads: r.grads });
    }
  } catch (e) {
    if (x !== xT) x.dispose();
    throw e;
  }
  return x === xT ? xT.clone() : x;
}
