import * as tf from '@tensorflow/tfjs';
import { namedGrads } from './namedGrads';

/** Adam hyper-parameters (Kingma & Ba; EDM uses β = (0.9, 0.999), ε = 1e-8). */
export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const adamDefaults: AdamConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/**
 * Adam over named variables. Its whole state (moments by weight name, step count) is plain named
 * tensors, so a checkpoint restores it exactly — which tfjs's optimiser, keyed by generated variable
 * names, does not allow across processes.
 */
export class Adam {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    readonly params: Map<string, tf.Variable>,
    readonly config: AdamConfig = adamDefaults,
  ) {
    for (const [k, p] of params) {
      // inside tidy: a Variable shares its initial tensor's data, and that tensor would otherwise stay alive
      this.m.set(
        k,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        k,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /** One update with learning rate `lr`; `grads` are keyed by weight name. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, epsilon } = this.config;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    // the native backend does each weight's update in one kernel (the same formula, one pass)
    const fused = !!tf.getKernel('SfdAdam', tf.getBackend());
    tf.tidy(() => {
      for (const [k, p] of this.params) {
        const g = grads.get(k);
        if (!g) throw new Error(`Adam: no gradient for weight ${k}`);
        const m = this.m.get(k) as tf.Variable;
        const v = this.v.get(k) as tf.Variable;
        if (fused && p.dtype === 'float32' && g.dtype === 'float32') {
          const attrs = { step: lr / c1, beta1, beta2, epsilon, c2 };
          const [p2, m2, v2] = tf.engine().runKernel('SfdAdam', { p, m, v, g }, attrs) as tf.Tensor[];
          m.assign(m2);
          v.assign(v2);
          p.assign(p2);
        } else {
          m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
          v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
          p.assign(p.sub(m.div(v.div(c2).sqrt().add(epsilon)).mul(lr / c1)));
        }
      }
    });
  }

  /** One step on `loss`: its gradients with respect to every param, then `apply`. Returns the loss. */
  minimize(loss: () => tf.Scalar, lr: number): tf.Scalar {
    const g = namedGrads(this.params, () => ({ loss: loss() }));
    this.apply(g.grads, lr);
    tf.dispose([...g.grads.values()]);
    return g.loss;
  }

  /** Moments as named tensors (`m/<name>`, `v/<name>`) for a checkpoint. */
  state(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [k, t] of this.m) out.set(`m/${k}`, t);
    for (const [k, t] of this.v) out.set(`v/${k}`, t);
    return out;
  }

  restore(state: Map<string, tf.Tensor>, step: number): void {
    for (const [prefix, moments] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [k, t] of moments) {
        const s = state.get(`${prefix}/${k}`);
        if (!s || s.shape.join() !== t.shape.join())
          throw new Error(`Adam: checkpoint lacks a matching ${prefix}/${k}`);
        t.assign(s);
      }
    }
    this.step = step;
  }

  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
  }
}
