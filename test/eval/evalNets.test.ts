import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { loadMnist } from '../../lib/data/mnist';
import { edmImageSchedule, sampleImages } from '../../lib/diffusion/sampleImages';
import { createFeatureNet, FEATURE_DIM } from '../../lib/eval/featureNet';
import { FEATURE_NET_SHA256, loadFeatureNet, saveFeatureNet } from '../../lib/eval/featureNetFiles';
import { lpipsDistance } from '../../lib/eval/lpips';
import { loadWeights } from '../../lib/models/weightsIO';
import { imageGridPng } from '../../lib/plot/imageGrid';
import { classify } from '../../lib/train/features';

describe('feature network and LPIPS-style distance', function () {
  this.timeout(60_000);
  const net = createFeatureNet(0);
  const a = tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
  const b = tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
  after(() => {
    net.dispose();
    tf.dispose([a, b]);
  });

  it('gives 128-d features and 10 logits, and refuses other image shapes', () => {
    const f = net.features(a);
    const l = net.logits(a);
    assert.deepEqual(f.shape, [3, FEATURE_DIM]);
    assert.deepEqual(l.shape, [3, 10]);
    tf.dispose([f, l]);
    assert.throws(() => net.features(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D), /\[B,28,28,1\]/);
  });

  it('is zero between an image and itself, symmetric, positive otherwise', () => {
    const same = lpipsDistance(net, a, a).dataSync();
    const ab = lpipsDistance(net, a, b).dataSync();
    const ba = lpipsDistance(net, b, a).dataSync();
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(same[i]) < 1e-6, `d(a,a) = ${same[i]}`);
      assert.ok(ab[i] > 1e-3, `d(a,b) = ${ab[i]}`);
      assert.ok(Math.abs(ab[i] - ba[i]) < 1e-6 * ab[i] + 1e-7, 'symmetric');
    }
  });

  it('is differentiable with respect to the images (and not the frozen network)', () => {
    const g = tf.grad((x: tf.Tensor) => lpipsDistance(net, x as tf.Tensor4D, b).sum())(a);
    const v = g.dataSync();
    assert.ok(v.every(Number.isFinite));
    assert.ok(v.some((x) => x !== 0));
    // A small step against the gradient lowers the distance.
    const before = lpipsDistance(net, a, b).sum().dataSync()[0];
    const after = lpipsDistance(net, a.sub(g.mul(1e-3 / Math.max(...v.map(Math.abs)))) as tf.Tensor4D, b)
      .sum()
      .dataSync()[0];
    assert.ok(after < before, `${after} < ${before}`);
    g.dispose();
  });

  it('refuses a feature network other than the pinned one, and missing files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfd-fnet-'));
    try {
      const sha = await saveFeatureNet(join(dir, 'new', 'folder'), net, { testAccuracy: 0 });
      assert.equal(await saveFeatureNet(dir, net, { testAccuracy: 0 }), sha, 'same weights, same hash');
      assert.notEqual(sha, FEATURE_NET_SHA256);
      assert.throws(() => loadFeatureNet(dir), /refusing a different network/);
      const loaded = loadFeatureNet(dir, null);
      assert.equal(loaded.sha256, sha);
      loaded.net.dispose();
      assert.throws(() => loadWeights(join(dir, 'nothing.json')), /not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('image sampling and grids', () => {
  // Exact denoiser of N(0, I) data: D(x; t) = x / (1 + t²).
  const gaussian = (x: tf.Tensor, t: number) => x.div(1 + t * t);
  const cfg = { solver: 'dpmpp-3m', nfe: 4, afs: false, schedule: edmImageSchedule };

  it('draws the same samples whatever the batch size, spending the stated NFE', async () => {
    const a = await sampleImages(gaussian, [4, 4, 1], 7, 3, cfg, 3);
    const b = await sampleImages(gaussian, [4, 4, 1], 7, 3, cfg, 5);
    assert.equal(a.nfe, 4);
    assert.deepEqual(Array.from(a.pixels), Array.from(b.pixels));
    assert.ok(a.pixels.every((v) => v >= -1 && v <= 1));
    assert.ok(a.pixels.some((v) => v !== a.pixels[0]));
    await assert.rejects(
      sampleImages(gaussian, [4, 4, 1], 2, 0, { ...cfg, solver: 'rk45' }),
      /unknown solver/,
    );
    await assert.rejects(sampleImages(gaussian, [4, 4, 1], 0, 0, cfg), /positive integer/);
  });

  it('writes a PNG grid with the images in place', () => {
    const px = new Float32Array(2 * 2 * 3 * 1).fill(-1);
    px[0] = 1; // first image, top-left pixel white
    const png = PNG.sync.read(Buffer.from(imageGridPng(px, 2, [2, 3, 1], 2, 1)));
    assert.equal(png.width, 2 * (3 + 1) + 1);
    assert.equal(png.height, 2 + 2);
    const at = (x: number, y: number) => png.data[(y * png.width + x) * 4];
    assert.equal(at(1, 1), 255);
    assert.equal(at(2, 1), 0);
    assert.equal(at(0, 0), 255, 'gap');
  });
});

describe('the shipped feature network', function () {
  this.timeout(60_000);
  it('loads under its pinned hash and classifies MNIST test at ≥ 99 %, as its card says', () => {
    const { net, card } = loadFeatureNet();
    const r = classify(net, loadMnist('test', undefined, false));
    net.dispose();
    assert.ok(r.accuracy >= 0.99, `accuracy ${r.accuracy}`);
    assert.equal(r.accuracy, card.testAccuracy);
  });
});
