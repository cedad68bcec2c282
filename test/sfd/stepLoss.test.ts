import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { type PerceptualDistance, sfdStepLoss } from '../../lib/sfd/stepLoss';

// Two samples of C·H·W = 2·2·1 = 4 elements; every value is a small dyadic number, so float32 sums are exact.
const OUT = [
  [1, -2, 0.5, 3],
  [0, 0.25, -1, 2],
];
const TARGET = [
  [0, -1, 1.5, 1],
  [0.5, 0.25, 1, -2],
];
const DIFF = OUT.map((o, i) => o.map((v, k) => v - TARGET[i][k]));
const image = (rows: number[][]) => tf.tensor4d(rows.flat(), [rows.length, 2, 2, 1]);
const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
/** A stand-in for LPIPS: per-sample distances 0.5 and 1.5, whatever the images (batch mean 1). */
const perceptual: PerceptualDistance = (a) =>
  tf.tensor1d(Array.from({ length: a.shape[0] }, (_, i) => 0.5 + i));

/** The loss of OUT against TARGET (as given, or changed by `f`), as a number; every tensor freed. */
function lossOf(
  kind: Parameters<typeof sfdStepLoss>[0],
  last: boolean,
  p?: PerceptualDistance,
  f: (rows: number[][]) => number[][] = (r) => r,
  shape?: number[],
) {
  const [out, target] = [OUT, TARGET].map((r) => (shape ? tf.tensor(f(r).flat(), shape) : image(f(r))));
  try {
    return tf.tidy(() => sfdStepLoss(kind, out, target, last, p).dataSync()[0]);
  } finally {
    tf.dispose([out, target]);
  }
}

describe('sfdStepLoss (the loss of one student step)', () => {
  it('l1 sums |out − target| over each sample’s C·H·W elements and averages over the batch', () => {
    const expected = sum(DIFF.map((d) => sum(d.map(Math.abs)))) / 2;
    assert.equal(lossOf('l1', false), expected);
  });

  it('l2 sums (out − target)² over each sample’s elements and averages over the batch', () => {
    const expected = sum(DIFF.map((d) => sum(d.map((v) => v * v)))) / 2;
    assert.equal(lossOf('l2', false), expected);
  });

  it('repeating the batch leaves the loss unchanged (a batch mean)', () => {
    assert.equal(
      lossOf('l1', false, undefined, (r) => [...r, ...r]),
      lossOf('l1', false),
    );
  });

  it('doubling each sample’s elements doubles the loss (no division by the pixel count)', () => {
    const twice = lossOf('l1', false, undefined, (r) => r.map((s) => [...s, ...s]), [2, 2, 4, 1]);
    assert.equal(twice, 2 * lossOf('l1', false));
  });

  it('l1+lpips adds the batch mean of the perceptual distance, weighted by C·H·W, on the last step', () => {
    assert.equal(lossOf('l1+lpips', true, perceptual), lossOf('l1', true) + 1 * 4);
  });

  it('l1+lpips is plain l1 on every step but the last', () => {
    assert.equal(lossOf('l1+lpips', false, perceptual), lossOf('l1', false));
  });

  it('lpips alone is the weighted perceptual term, on every step', () => {
    assert.equal(lossOf('lpips', false, perceptual), 1 * 4);
    assert.equal(lossOf('lpips', true, perceptual), 1 * 4);
  });

  it('a perceptual loss without a perceptual distance is refused', () => {
    assert.throws(() => lossOf('lpips', false), /loss 'lpips' needs a perceptual distance/);
    assert.throws(() => lossOf('l1+lpips', true), /loss 'l1\+lpips' needs a perceptual distance/);
  });
});
