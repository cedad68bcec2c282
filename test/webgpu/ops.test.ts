import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { dynamicThreshold } from '../../lib/diffusion/solvers/dynamicThreshold';
import { addScale } from '../../lib/models/addScale';
import { groupNorm } from '../../lib/models/groupNorm';
import { silu } from '../../lib/models/silu';
import { sanitizeGrads } from '../../lib/sfd/studentStep';
import { makeRng } from '../../lib/util/rng';
import { adapterName, maxRelDiff, onBoth, requireWebgpu, values } from './twoBackends';

interface OpCase {
  name: string;
  shapes: number[][];
  f: (xs: tf.Tensor[]) => tf.Tensor;
  /** Whether to compare gradients with respect to every input too (default true). */
  grad?: boolean;
}

const U = (xs: tf.Tensor[], i: number) => xs[i] as tf.Tensor4D;

// Every op the UNet (lib/models/unet.ts), the samplers and the SFD trainer use, at small shapes; batch 2
// wherever a kernel could mix up samples (tfjs's cpu upsampling gradient once did).
const CASES: OpCase[] = [
  {
    name: 'fused conv2d 3×3, stride 1, same, bias',
    shapes: [[2, 6, 6, 4], [3, 3, 4, 8], [8]],
    f: (x) => tf.fused.conv2d({ x: U(x, 0), filter: U(x, 1), strides: 1, pad: 'same', bias: x[2] }),
  },
  {
    name: 'fused conv2d 3×3, stride 2 (down-sampling)',
    shapes: [[2, 6, 6, 4], [3, 3, 4, 4], [4]],
    f: (x) => tf.fused.conv2d({ x: U(x, 0), filter: U(x, 1), strides: 2, pad: 'same', bias: x[2] }),
  },
  {
    name: 'conv2d 1×1 (skip connection)',
    shapes: [[2, 4, 4, 8], [1, 1, 8, 4], [4]],
    f: (x) => tf.fused.conv2d({ x: U(x, 0), filter: U(x, 1), strides: 1, pad: 'same', bias: x[2] }),
  },
  {
    name: 'resizeNearestNeighbor ×2 (up-sampling), batch 2',
    shapes: [[2, 3, 3, 4]],
    f: (x) => tf.image.resizeNearestNeighbor(U(x, 0), [6, 6]),
  },
  {
    name: 'fused matMul with bias (linear layers)',
    shapes: [[5, 6], [6, 7], [7]],
    f: (x) => tf.fused.matMul({ a: x[0] as tf.Tensor2D, b: x[1] as tf.Tensor2D, bias: x[2] }),
  },
  {
    name: 'attention: q·kᵀ/√c, softmax, ·v',
    shapes: [
      [2, 9, 4],
      [2, 9, 4],
      [2, 9, 4],
    ],
    f: ([q, k, v]) => tf.matMul(tf.softmax(tf.matMul(q, k, false, true).mul(0.5), -1), v),
  },
  {
    name: 'group norm + SiLU (lib/models/groupNorm)',
    shapes: [[2, 4, 4, 8], [8], [8]],
    f: (x) => groupNorm(U(x, 0), x[1] as tf.Tensor1D, x[2] as tf.Tensor1D, 4, 1e-5, 'silu'),
  },
  { name: 'SiLU', shapes: [[2, 3, 3, 4]], f: (x) => silu(x[0]) },
  {
    name: 'addScale (residual sum × 1/√2)',
    shapes: [
      [2, 3, 3, 4],
      [2, 3, 3, 4],
    ],
    f: (x) => addScale(x[0], x[1], Math.SQRT1_2),
  },
  {
    name: 'sinusoidal embedding: sin, cos, concat',
    shapes: [
      [3, 1],
      [1, 4],
    ],
    f: ([c, f]) => {
      const a = c.mul(f);
      return tf.concat([tf.cos(a), tf.sin(a)], 1);
    },
  },
  {
    name: 'broadcast add of the embedding bias, reshape, transpose, split',
    shapes: [
      [2, 3, 3, 6],
      [2, 6],
    ],
    f: ([h, b]) => {
      const s = h.add(b.reshape([2, 1, 1, 6]));
      const [p, q] = tf.split(s.transpose([0, 3, 1, 2]), 2, 1);
      return p.mul(q).sub(p);
    },
  },
  {
    name: 'EDM preconditioning arithmetic: mul, div, sqrt, rsqrt, square, mean',
    shapes: [
      [2, 3, 3, 1],
      [2, 3, 3, 1],
    ],
    f: ([x, y]) =>
      x
        .mul(1 / Math.sqrt(1.44 + 0.25))
        .add(y.square().add(1).rsqrt())
        .sub(x.square().mean()),
  },
  {
    name: 'L1 and L2 losses (abs, square, sum, sqrt)',
    shapes: [
      [2, 3, 3, 1],
      [2, 3, 3, 1],
    ],
    f: ([a, b]) =>
      tf.stack([a.sub(b).abs().mean(), a.sub(b).reshape([2, -1]).square().sum(1).add(1e-3).sqrt().mean()]),
  },
  {
    name: 'dynamic thresholding (topk quantile, clip)',
    shapes: [[2, 6, 6, 1]],
    f: (x) => dynamicThreshold(x[0].mul(3)),
    grad: false,
  },
];

function inputs(shapes: number[][], seed: number): Float32Array[] {
  const rng = makeRng(seed);
  return shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()));
}

/** The op's output and, through a seeded random upstream gradient dy, its gradient wrt every input. */
async function run(c: OpCase, data: Float32Array[], dySeed: number) {
  const xs = data.map((d, i) => tf.tensor(d, c.shapes[i]));
  const y = c.f(xs);
  const outs = [y];
  if (c.grad !== false) {
    const dy = tf.tensor(inputs([y.shape], dySeed)[0], y.shape);
    const g = tf.grads((...a: tf.Tensor[]) => c.f(a).mul(dy).sum())(xs);
    outs.push(...g);
    dy.dispose();
  }
  const v = await values(...outs);
  tf.dispose(xs);
  return v;
}

describe('WebGPU: every op the UNet, the samplers and the trainer use, and its gradient, agrees with cpu', () => {
  before(async function () {
    await requireWebgpu(this);
    console.log(`      on ${adapterName()}`);
  });

  for (const [k, c] of CASES.entries()) {
    it(c.name, async function () {
      this.timeout(120_000);
      const data = inputs(c.shapes, 100 + k);
      const r = await onBoth(() => run(c, data, 900 + k));
      assert.equal(r.gpu.length, r.cpu.length);
      for (const [i, want] of r.cpu.entries()) {
        const d = maxRelDiff(want, r.gpu[i]);
        const what = i === 0 ? 'output' : `gradient wrt input ${i - 1}`;
        assert.ok(d < 2e-5, `${what}: max relative difference ${d.toExponential(2)}`);
      }
    });
  }

  it('sanitizing gradients (isNaN, isInf, where, sign) replaces the same elements', async () => {
    const data = Float32Array.from([
      1,
      Number.NaN,
      -2,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      3,
    ]);
    const r = await onBoth(async () => {
      const g = new Map([['w', tf.tensor1d(data)]]);
      const clean = sanitizeGrads(g);
      const [v, n] = await values(clean.grads.get('w') as tf.Tensor, clean.replaced);
      return { v: Array.from(v), n: n[0] };
    });
    assert.deepEqual(r.gpu, r.cpu);
    assert.deepEqual(r.cpu, { v: [1, 0, -2, 1e5, -1e5, 3], n: 3 });
  });
});
