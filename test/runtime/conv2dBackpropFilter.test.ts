import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/runtime/backend';
import {
  conv2dBackpropFilter,
  registerConv2dBackpropFilter,
} from '../../lib/runtime/kernels/conv2dBackpropFilter';
import { makeRng } from '../../lib/util/rng';
import { assertClose } from '../helpers';

type Case = {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid';
};
const CASES: Case[] = [
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 2], stride: 2, pad: 'same' },
  { x: [3, 9, 6, 2], f: [3, 2, 2, 5], stride: 2, pad: 'valid' },
  { x: [1, 5, 5, 4], f: [1, 1, 4, 3], stride: 1, pad: 'valid' },
  { x: [1, 6, 5, 2], f: [4, 4, 2, 2], stride: 1, pad: 'same' },
];

const randn = (n: number, seed: number) => {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** dW of sum(conv2d(x, W) ⊙ g) via the gradient tape, on the current backend. */
function filterGrad(c: Case, seed: number): number[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(randn(size(c.x), seed), c.x);
    const w = tf.tensor4d(randn(size(c.f), seed + 1), c.f);
    const outShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const g = tf.tensor(randn(size(outShape), seed + 2), outShape);
    const dW = tf.grad((wt: tf.Tensor) =>
      tf
        .conv2d(x, wt as tf.Tensor4D, c.stride, c.pad)
        .mul(g)
        .sum(),
    )(w);
    return Array.from(dW.dataSync());
  });
}

describe('Conv2DBackpropFilter for wasm (which ships without one)', () => {
  it('gradient checks against the reference cpu kernel: strides 1 and 2, same/valid padding, odd sizes, batch 1', async () => {
    const info = await initBackend();
    await tf.setBackend('wasm');
    registerConv2dBackpropFilter('wasm');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'no Conv2DBackpropFilter on wasm');
    const ours = CASES.map((c, i) => filterGrad(c, 10 * i));
    await tf.setBackend('cpu');
    try {
      const reference = CASES.map((c, i) => filterGrad(c, 10 * i));
      CASES.forEach((c, i) => {
        assertClose(ours[i], reference[i], 1e-4, 1e-4, `dW ${JSON.stringify(c)} on wasm`);
      });
    } finally {
      await tf.setBackend(info.backend);
    }
  });

  it('the op itself matches the cpu kernel on the current backend and leaves no tensors behind', () => {
    const c = CASES[2];
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const x = tf.tensor4d(randn(size(c.x), 5), c.x);
      const out = tf.conv2d(x, tf.zeros(c.f) as tf.Tensor4D, c.stride, c.pad);
      const dy = tf.tensor4d(randn(size(out.shape), 6), out.shape as [number, number, number, number]);
      const mine = conv2dBackpropFilter(x, dy, c.f, c.stride, c.pad);
      const viaGrad = tf.grad((w: tf.Tensor) =>
        tf
          .conv2d(x, w as tf.Tensor4D, c.stride, c.pad)
          .mul(dy)
          .sum(),
      )(tf.zeros(c.f));
      return [Array.from(mine.dataSync()), Array.from(viaGrad.dataSync())];
    });
    assertClose(got[0], got[1], 1e-4, 1e-5, 'dW');
    assert.equal(tf.memory().numTensors, before);
  });

  it('a conv layer trains on the default backend (loss falls under SGD)', () => {
    const x = tf.tensor4d(randn(2 * 6 * 6 * 2, 1), [2, 6, 6, 2]);
    const target = tf.tensor4d(randn(2 * 6 * 6 * 3, 2), [2, 6, 6, 3]);
    const w = tf.variable(tf.zeros([3, 3, 2, 3]));
    const opt = tf.train.sgd(0.02);
    const loss = () =>
      tf
        .conv2d(x, w as tf.Tensor4D, 1, 'same')
        .sub(target)
        .square()
        .mean() as tf.Scalar;
    const first = (opt.minimize(loss, true) as tf.Scalar).dataSync()[0];
    for (let i = 0; i < 30; i++) tf.dispose(opt.minimize(loss, true) ?? []);
    const last = loss().dataSync()[0];
    assert.ok(last < first * 0.95, `loss ${first} → ${last}`);
    tf.dispose([x, target, w]);
    opt.dispose();
  });
});
