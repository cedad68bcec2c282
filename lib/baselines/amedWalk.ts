import * as tf from '@tensorflow/tfjs';
import { checkGrid } from '../diffusion/solvers/integrate';
import { namedGrads } from '../train/namedGrads';
import { type AmedStepResult, amedIpndmStep, dropHistory } from './amedPlugin';
import type { AmedFactors, AmedPredict } from './amedPredictor';
import type { AmedTeacher } from './amedTeacher';

export interface AmedWalkOptions {
  /** Highest Adams–Bashforth order, 1–4 (official max_order 4). */
  maxOrder: number;
  /** AFS on the first step: its first call is answered analytically (and its feature is zero). */
  afs: boolean;
}

export interface AmedStepOutcome {
  /** The state at ts[i + 1]; the walk owns it. */
  x: tf.Tensor;
  /** The step's r, a, c (the walk frees them after the hook). */
  factors: AmedFactors;
  /** The step's loss and d loss / d weight by name, when training (the hook owns them); null otherwise. */
  loss: tf.Scalar | null;
  grads: Map<string, tf.Tensor> | null;
}

export interface AmedWalkHooks {
  /** Training: each step's loss from its new state, differentiated with respect to `weights`. */
  loss?: (i: number, x: tf.Tensor) => tf.Scalar;
  weights?: Map<string, tf.Variable>;
  /** After each step, before the next (training updates the predictor here). */
  onStep?: (i: number, outcome: AmedStepOutcome) => void | Promise<void>;
}

/**
 * AMED-Plugin(iPNDM) from x_T along the grid `ts`: one `amedIpndmStep` per interval, the history carried
 * across steps. Sampling and training walk through here; when training, each step runs under a gradient
 * tape over the predictor's weights only (the teacher is frozen: its weights are not differentiated, but the
 * gradient flows through its call at the predicted time), and its state leaves the step as a plain tensor,
 * as the official trainer detaches the student's output. Returns the last state; xT stays the caller's.
 */
export async function amedWalk(
  teacher: AmedTeacher,
  predict: AmedPredict,
  xT: tf.Tensor,
  ts: readonly number[],
  opts: AmedWalkOptions,
  hooks: AmedWalkHooks = {},
): Promise<tf.Tensor> {
  checkGrid(ts);
  if (hooks.loss && !hooks.weights) throw new Error('amedWalk: a loss needs the weights to differentiate');
  let x = xT;
  let history: tf.Tensor[] = [];
  try {
    for (let i = 0; i < ts.length - 1; i++) {
      // the step's results leave its scope (tidy or tape) kept; everything else in it is freed
      const step = () =>
        keepStep(
          amedIpndmStep(teacher, predict, x, ts[i], ts[i + 1], history, {
            ...opts,
            afs: opts.afs && i === 0,
          }),
        );
      let r!: AmedStepResult;
      let loss: tf.Scalar | null = null;
      let grads: Map<string, tf.Tensor> | null = null;
      if (hooks.loss && hooks.weights) {
        const lossOf = hooks.loss;
        ({ loss, grads } = namedGrads(hooks.weights, () => {
          r = step();
          return { loss: lossOf(i, r.x) };
        }));
      } else
        tf.tidy(() => {
          r = step();
        });
      dropHistory(history, r.history);
      history = r.history;
      if (x !== xT) x.dispose();
      x = r.x;
      try {
        await hooks.onStep?.(i, { x, factors: r.factors, loss, grads });
      } finally {
        tf.dispose([r.factors.r, r.factors.scaleTime, r.factors.scaleDir]);
      }
    }
  } catch (e) {
    if (x !== xT) x.dispose();
    throw e;
  } finally {
    tf.dispose(history);
  }
  return x === xT ? xT.clone() : x;
}

function keepStep(s: AmedStepResult): AmedStepResult {
  const { r, scaleTime, scaleDir } = s.factors;
  return {
    x: tf.keep(s.x),
    history: s.history.map((h) => tf.keep(h)),
    factors: { r: tf.keep(r), scaleTime: tf.keep(scaleTime), scaleDir: tf.keep(scaleDir) },
  };
}
