import * as tf from '@tensorflow/tfjs';

/**
 * Exponential moving average of weights with EDM's half-life in images and ramp-up: the half-life is
 * min(halfLifeImages, rampUp · images seen), so early noise is forgotten quickly.
 */
export class Ema {
  readonly weights = new Map<string, tf.Variable>();

  constructor(
    params: Map<string, tf.Variable>,
    readonly halfLifeImages: number,
    readonly rampUp = 0.05,
  ) {
    for (const [k, p] of params)
      this.weights.set(
        k,
        tf.tidy(() => tf.variable(p.clone(), false)),
      );
  }

  /** Decay per step of `batch` images after `imagesSeen` images in total. */
  beta(batch: number, imagesSeen: number): number {
    const halfLife = Math.min(this.halfLifeImages, this.rampUp * imagesSeen);
    return halfLife > 0 ? 0.5 ** (batch / Math.max(halfLife, 1e-8)) : 0;
  }

  update(params: Map<string, tf.Variable>, batch: number, imagesSeen: number): void {
    const b = this.beta(batch, imagesSeen);
    const fused = !!tf.getKernel('SfdEma', tf.getBackend()); // native: the same update in one kernel
    tf.tidy(() => {
      for (const [k, e] of this.weights) {
        const p = params.get(k) as tf.Variable;
        if (fused && p.dtype === 'float32')
          e.assign(tf.engine().runKernel('SfdEma', { e, p }, { beta: b }) as tf.Tensor);
        else e.assign(p.add(e.sub(p).mul(b)));
      }
    });
  }

  dispose(): void {
    tf.dispose([...this.weights.values()]);
  }
}
