import type * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import type { Denoiser } from '../diffusion/denoiser';
import { eulerStep } from '../diffusion/solvers/euler';
import { namedGrads } from '../train/namedGrads';
import type { StudentStep } from './studentSteps';

// where lib/bench/gpuNumerics.ts imports it from (move that import to ./gradientCleaning, then drop this)
export { sanitizeGrads } from './gradientCleaning';

/** A trainable student: a denoiser computed from named weights. */
export interface Student {
  denoise: Denoiser;
  weights: Map<string, tf.Variable>;
}

/** A student that walks its grid: only a walk with `train` steps needs its weights. */
export type Walker = Pick<Student, 'denoise'> & Partial<Pick<Student, 'weights'>>;

export interface StudentStepResult {
  /** The state at tNext: the next step's input (a plain tensor, so the next step is detached). */
  out: tf.Tensor;
  /** The step's loss, when one is given. */
  loss: tf.Scalar | null;
  /** d loss / d weight by name, on a `train` step; null otherwise. */
  grads: Map<string, tf.Tensor> | null;
}

/**
 * One student Euler step from its own state x at step.t to step.tNext, and its loss. A `train` step computes
 * the loss's gradients in the same forward pass that gives the next input (no second forward); an `afs` step
 * replaces the network call by the analytical first step (no weights to train).
 */
export function studentStep(
  student: Walker,
  x: tf.Tensor,
  step: StudentStep,
  loss?: (out: tf.Tensor) => tf.Scalar,
): StudentStepResult {
  const { t, tNext, cond } = step;
  if (step.kind === 'train') {
    const { weights } = student;
    if (!weights || !loss)
      throw new RangeError(`student step ${step.j} trains, but the walk has no ${loss ? 'weights' : 'loss'}`);
    const g = namedGrads(weights, () => {
      const out = eulerStep(student.denoise, x, t, tNext, cond);
      return { loss: loss(out), out };
    });
    return { out: g.out, loss: g.loss, grads: g.grads };
  }
  const d = step.kind === 'afs' ? withAfs(student.denoise, t) : student.denoise;
  const out = eulerStep(d, x, t, tNext, cond);
  try {
    return { out, loss: loss ? loss(out) : null, grads: null };
  } catch (e) {
    out.dispose();
    throw e;
  }
}
