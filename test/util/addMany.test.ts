import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { addMany } from '../../lib/util/addMany';

describe('addMany (a sum of many tensors in groups a WebGPU shader can bind)', () => {
  it('equals the plain sum for 1, 7, 8, 50 and 111 inputs, and leaks nothing', async () => {
    for (const n of [1, 7, 8, 50, 111]) {
      const ts = Array.from({ length: n }, (_, i) => tf.tensor1d([i, 2 * i + 1]));
      const before = tf.memory().numTensors;
      const s = addMany(ts);
      assert.equal(tf.memory().numTensors, before + 1, `n = ${n}`);
      assert.deepEqual(Array.from(await s.data()), [(n * (n - 1)) / 2, n * n]);
      tf.dispose([s, ...ts]);
    }
    assert.throws(() => addMany([]), /nothing to add/);
  });
});
