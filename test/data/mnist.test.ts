import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnist, mnistBatch, mnistDir, mnistEpoch, shuffledIndices } from '../../lib/data/mnist';

describe('MNIST loader', () => {
  const train = loadMnist('train');

  it('loads the standard 60k/10k sets: label counts and first labels match MNIST', () => {
    assert.equal(train.n, 60000);
    const counts = Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    assert.deepEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    assert.deepEqual(Array.from(train.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
    const test = loadMnist('test', mnistDir(), false);
    assert.equal(test.n, 10000);
    assert.deepEqual(Array.from(test.labels.subarray(0, 3)), [7, 2, 1]);
  });

  it('batches are NHWC in [−1, 1] with their labels; the epoch order is a seeded permutation', () => {
    const { x, labels } = mnistBatch(train, [0, 1]);
    assert.deepEqual(x.shape, [2, 28, 28, 1]);
    const v = x.dataSync();
    assert.equal(Math.min(...v), -1);
    assert.equal(Math.max(...v), 1);
    assert.deepEqual(Array.from(labels), [5, 0]);
    x.dispose();
    const p = shuffledIndices(1000, 7);
    assert.deepEqual(
      Array.from(p).sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.deepEqual(p, shuffledIndices(1000, 7));
    assert.notDeepEqual(p, shuffledIndices(1000, 8));
    const first = mnistEpoch(train, 64, 3, 1).next().value;
    const again = mnistEpoch(train, 64, 3, 1).next().value;
    assert.ok(first && again);
    assert.deepEqual(first.labels, again.labels);
    tf.dispose([first.x, again.x]);
  });

  it('missing, truncated or altered files fail with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    assert.throws(() => loadMnist('test', dir), /MNIST file missing/);
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
      copyFileSync(join(mnistDir(), f), join(dir, f));
    const imgs = readFileSync(join(dir, 't10k-images-idx3-ubyte'));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), imgs.subarray(0, imgs.length - 10));
    assert.throws(() => loadMnist('test', dir), /is 7840006 bytes, expected 7840016/);
    const bad = Buffer.from(imgs);
    bad.writeUInt32BE(0x802, 0);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), bad);
    assert.throws(() => loadMnist('test', dir), /magic 0x802, expected 0x803/);
    const flipped = Buffer.from(imgs);
    flipped[5000] ^= 0xff;
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), flipped);
    assert.throws(
      () => loadMnist('test', dir),
      /md5 of .* is [0-9a-f]{32}, expected 2646ac647ad5339dbf082846283269ea/,
    );
    assert.throws(() => mnistEpoch(train, 0, 1).next(), /batch size must be in 1..60000/);
  });
});
