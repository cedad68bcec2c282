import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { finiteCheck, gradientCleaner, sanitizeGrads } from '../../lib/sfd/gradientCleaning';

const grads = (values: number[][]) => new Map(values.map((v, i) => [`w${i}`, tf.tensor1d(v)]));
const valuesOf = (m: Map<string, tf.Tensor>) => [...m.values()].map((t) => Array.from(t.dataSync()));
const dispose = (m: Map<string, tf.Tensor>) => tf.dispose([...m.values()]);

describe('gradient cleaning (NaN and ±∞ as the official code treats them)', () => {
  it('sanitizeGrads maps NaN → 0 and ±∞ → ±1e5, keeps finite values, and counts what it replaced', () => {
    const r = sanitizeGrads(
      grads([
        [1, Number.NaN, -2],
        [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      ]),
    );
    assert.deepEqual(valuesOf(r.grads), [
      [1, 0, -2],
      [1e5, -1e5],
    ]);
    assert.equal(r.replaced.dataSync()[0], 3);
    dispose(r.grads);
    r.replaced.dispose();
  });

  it('off the GPU, finite gradients come back as they are (no cleaning pass)', async () => {
    const cleaner = gradientCleaner(false);
    const g = grads([[1, 2]]);
    const clean = await cleaner.clean(g);
    assert.equal(clean.get('w0'), g.get('w0'));
    dispose(clean);
    cleaner.dispose();
  });

  it('off the GPU, non-finite gradients are cleaned', async () => {
    const cleaner = gradientCleaner(false);
    const clean = await cleaner.clean(grads([[Number.NaN, 2]]));
    assert.deepEqual(valuesOf(clean), [[0, 2]]);
    dispose(clean);
    cleaner.dispose();
  });

  it('on a GPU every update is cleaned, finite values unchanged', async () => {
    const cleaner = gradientCleaner(true);
    const g = grads([[1.5, -2.25]]);
    const clean = await cleaner.clean(g);
    assert.notEqual(clean.get('w0'), g.get('w0'));
    assert.deepEqual(valuesOf(clean), [[1.5, -2.25]]);
    dispose(clean);
    cleaner.dispose();
  });

  it('replacedCount sums over the iteration’s updates, and dispose frees every count', async () => {
    const before = tf.memory().numTensors;
    const cleaner = gradientCleaner(true);
    dispose(await cleaner.clean(grads([[Number.NaN, 1]])));
    dispose(await cleaner.clean(grads([[Number.POSITIVE_INFINITY], [Number.NaN]])));
    const n = cleaner.replacedCount();
    assert.equal(n.dataSync()[0], 3);
    n.dispose();
    cleaner.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('finiteCheck is 0 exactly when every element of every gradient is finite, on this backend and on cpu', async () => {
    const big = (at: number, v: number) => {
      const a = new Float32Array(70000).fill(0.5); // above the native kernel's threshold for threads
      if (at >= 0) a[at] = v;
      return tf.tensor1d(a);
    };
    // two gradients: a small one, and a large one with v at index `at` (none for at < 0)
    const cases: [string, number[], number, number, boolean][] = [
      ['all finite', [1, -3e38], -1, 0, true],
      ['NaN in the last', [1], 69999, Number.NaN, false],
      ['+∞ in the first', [Number.POSITIVE_INFINITY], -1, 0, false],
      ['−∞ mid-way', [2], 35000, Number.NEGATIVE_INFINITY, false],
    ];
    for (const backend of [tf.getBackend(), 'cpu']) {
      const prev = tf.getBackend();
      await tf.setBackend(backend);
      try {
        for (const [what, small, at, v, finite] of cases) {
          const g = new Map([
            ['a', tf.tensor1d(small)],
            ['b', big(at, v)],
          ]);
          const check = finiteCheck(g);
          assert.equal(check.dataSync()[0] === 0, finite, `${what} on ${backend}`);
          check.dispose();
          dispose(g);
        }
      } finally {
        await tf.setBackend(prev);
      }
    }
  });
});
