import * as tf from '@tensorflow/tfjs';

export interface NamedGrads<O extends tf.Tensor | undefined> {
  /** The loss (caller owns it). */
  loss: tf.Scalar;
  /** d loss / d weight, keyed by the weight's name in `weights` (caller owns them). */
  grads: Map<string, tf.Tensor>;
  /** What the forward pass returned beside the loss, kept alive and detached (caller owns it). */
  out: O;
}

/**
 * Gradients of a loss with respect to named weights, plus whatever else the same forward pass computed
 * (SFD's student step feeds its output to the next step without a second forward pass). `f` runs inside
 * tfjs's gradient tape, so `out` leaves it as a plain tensor: no gradient flows through it later.
 */
export function namedGrads<O extends tf.Tensor | undefined = undefined>(
  weights: Map<string, tf.Variable>,
  f: () => { loss: tf.Scalar; out?: O },
): NamedGrads<O> {
  const byVarName = new Map([...weights].map(([k, v]) => [v.name, k]));
  let out: O | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const r = f();
    if (r.out) out = tf.keep(r.out) as O;
    return r.loss;
  }, [...weights.values()]);
  const named = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(grads)) {
    const k = byVarName.get(varName);
    if (k === undefined) throw new Error(`namedGrads: gradient for an unnamed variable ${varName}`);
    named.set(k, g);
  }
  return { loss: value, grads: named, out: out as O };
}
