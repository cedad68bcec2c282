import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import type { Conditioning, Denoiser } from '../diffusion/denoiser';
import { eulerStep } from '../diffusion/solvers/euler';
import { namedGrads } from '../train/namedGrads';
import { addMany } from '../util/addMany';

/** A trainable student: a denoiser computed from named weights. */
export interface Student {
  denoise: Denoiser;
  weights: Map<string, tf.Variable>;
}

export interface StudentStepResult {
  /** The state at tNext: the next step's input (a plain tensor, so the next step is detached). */
  out: tf.Tensor;
  loss: tf.Scalar;
  /** d loss / d weight by name, when the step trains; null otherwise. */
  grads: Map<string, tf.Tensor> | null;
}

/**
 * One student Euler step from its own state x at t to tNext, and its loss against the teacher's state.
 * A training step computes the loss's gradients in the same forward pass that gives the next input (no
 * second forward); `afs` replaces the network call by the analytical first step (no weights to train).
 */
export function studentStep(
  student: Student,
  x: tf.Tensor,
  t: number,
  tNext: number,
  cond: Conditioning | undefined,
  loss: (out: tf.Tensor) => tf.Scalar,
  mode: 'train' | 'forward' | 'afs',
): StudentStepResult {
  if (mode === 'afs' || mode === 'forward') {
    const d = mode === 'afs' ? withAfs(student.denoise, t) : student.denoise;
    const out = eulerStep(d, x, t, tNext, cond);
    return { out, loss: loss(out), grads: null };
  }
  const g = namedGrads(student.weights, () => {
    const out = eulerStep(student.denoise, x, t, tNext, cond);
    return { loss: loss(out), out };
  });
  return { out: g.out, loss: g.loss, grads: g.grads };
}

/**
 * Non-finite gradients as the official code treats them: NaN → 0, ±∞ → ±1e5. Returns the cleaned
 * gradients (the inputs are disposed) and how many elements were replaced.
 */
export function sanitizeGrads(grads: Map<string, tf.Tensor>): {
  grads: Map<string, tf.Tensor>;
  replaced: tf.Scalar;
} {
  const out = new Map<string, tf.Tensor>();
  const counts: tf.Scalar[] = [];
  for (const [k, g] of grads) {
    const [clean, n] = tf.tidy(() => {
      const nan = tf.isNaN(g);
      const inf = tf.isInf(g);
      const fixed = tf.where(nan, tf.zerosLike(g), tf.where(inf, tf.sign(g).mul(1e5), g));
      return [fixed, tf.logicalOr(nan, inf).sum()];
    });
    out.set(k, clean);
    counts.push(n as tf.Scalar);
    g.dispose();
  }
  const replaced = (counts.length ? addMany(counts) : tf.scalar(0, 'int32')) as tf.Scalar;
  tf.dispose(counts);
  return { grads: out, replaced };
}

/** 0 when every gradient element is finite, NaN otherwise: one cheap check before `sanitizeGrads`. */
export function finiteCheck(grads: Map<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => addMany([...grads.values()].map((g) => g.mul(0).sum())) as tf.Scalar);
}
