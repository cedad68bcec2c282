import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { createUNet } from '../lib/models/unet';
import { saveUNet } from '../lib/models/unetFiles';
import { makeRng } from '../lib/util/rng';

/** Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, naming the first offending index. */
export function assertClose(
  actual: readonly number[],
  expected: readonly number[],
  rtol: number,
  atol = 0,
  what = 'value',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(
      Math.abs(a - e) <= atol + rtol * Math.abs(e),
      `${what}[${i}] = ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`,
    );
  });
}

/** The first element of a tensor (the toy tests use batches of identical scalars). */
export function first(x: tf.Tensor): number {
  return x.dataSync()[0];
}

/** Least-squares slope of log(err) against log(steps): the measured order of convergence is −slope. */
export function convergenceOrder(steps: readonly number[], errs: readonly number[]): number {
  const xs = steps.map(Math.log);
  const ys = errs.map(Math.log);
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i] - my);
    den += (x - mx) ** 2;
  });
  return -num / den;
}

/** A tensor of seeded standard-normal values (plain-JS source: identical on every backend). */
export function randn(shape: number[], seed: number): tf.Tensor {
  const rng = makeRng(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );
}

/** A tiny MNIST-shaped UNet (28×28×1, two levels of 8 channels): fast enough for trainer tests. */
export const tinyMnistUnet = {
  resolution: 28,
  inChannels: 1,
  channels: [8, 8],
  attention: false,
  embedDim: 8,
  positional: true,
};

/**
 * Saves a random (untrained) tiny MNIST-shaped teacher as a model directory: distillation only needs a
 * denoiser. Its output layer is made non-zero, so it is not the identity-skip denoiser.
 */
export async function saveTinyMnistTeacher(dir: string, seed = 7): Promise<void> {
  const u = createUNet(tinyMnistUnet, seed);
  tf.tidy(() => {
    const w = u.weights.get('out.w') as tf.Variable;
    w.assign(tf.randomNormal(w.shape, 0, 0.05, 'float32', 3));
  });
  await saveUNet(dir, u.weights, u.config, { steps: 0 });
  u.dispose();
}
