import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
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
