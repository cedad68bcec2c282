import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { edmPrecond } from '../../lib/diffusion/precond';
import { groupNorm, groupNormReference } from '../../lib/models/groupNorm';
import { createUNet, unetRawNet } from '../../lib/models/unet';
import { NATIVE_BACKEND } from '../../lib/runtime/native/register';
import { assertClose, randn } from '../helpers';

const SMALL = { resolution: 8, inChannels: 1, channels: [8, 16], groups: 4, embedDim: 8 };

describe('UNet teacher network', () => {
  it('maps [B, 8, 8, 1] to the same shape for scalar and per-sample noise levels, counting its parameters', () => {
    const u = createUNet(SMALL, 1);
    const x = randn([3, 8, 8, 1], 2);
    const a = u.net(x, 0.5);
    const b = u.net(x, tf.tensor1d([0.5, 0.5, 0.5]));
    assert.deepEqual(a.shape, [3, 8, 8, 1]);
    assertClose(
      Array.from(a.dataSync()),
      Array.from(b.dataSync()),
      1e-6,
      1e-7,
      'scalar vs per-sample c_noise',
    );
    assert.equal(
      u.params,
      [...u.weights.values()].reduce((s, v) => s + v.size, 0),
    );
    tf.dispose([x, a, b]);
    u.dispose();
  });

  it('zero-initialised output and attention projections: after two Adam steps every weight gets a gradient', () => {
    const u = createUNet(SMALL, 3);
    const x = randn([4, 8, 8, 1], 4);
    const D = edmPrecond(unetRawNet(u));
    const loss = () => D(x.mul(1.5), 1.5).sub(x).square().mean() as tf.Scalar;
    const opt = tf.train.adam(1e-2);
    // step 1 moves only the output conv; step 2 the attention projection behind it
    for (let i = 0; i < 2; i++) tf.dispose(opt.minimize(loss, true) ?? []);
    const { grads } = tf.variableGrads(loss, [...u.weights.values()]);
    const dead = [...u.weights.entries()]
      .filter(([, v]) => grads[v.name].abs().max().dataSync()[0] === 0)
      .map(([name]) => name);
    assert.deepEqual(dead, []);
    tf.dispose([x, ...Object.values(grads)]);
    opt.dispose();
    u.dispose();
  });

  it('with stepCondition, a fresh student equals its teacher (same seed) and ignores the step until trained', () => {
    const u = createUNet({ ...SMALL, stepCondition: true }, 5);
    const plain = createUNet(SMALL, 5);
    const x = randn([2, 8, 8, 1], 6);
    // make the output layer non-zero so differences would show
    for (const net of [u, plain]) net.weights.get('out.w')?.assign(randn([3, 3, 8, 1], 7).mul(0.1));
    const a = u.net(x, 0.2, { step: 4 });
    const b = u.net(x, 0.2, { step: 7 });
    assertClose(Array.from(a.dataSync()), Array.from(b.dataSync()), 0, 1e-7, 'step 4 vs step 7');
    // same seed: every shared weight equals the unconditioned teacher's, so the outputs agree too
    for (const [name, v] of plain.weights)
      assert.deepEqual(u.weights.get(name)?.dataSync(), v.dataSync(), name);
    const teacherOut = plain.net(x, 0.2);
    assertClose(Array.from(a.dataSync()), Array.from(teacherOut.dataSync()), 0, 1e-6, 'student vs teacher');
    assert.throws(() => u.net(x, 0.2), /needs cond.step/);
    teacherOut.dispose();
    u.weights.get('down0.0.step.w')?.assign(randn([32, 8], 8));
    const c = u.net(x, 0.2, { step: 7 });
    const gap = Math.max(...Array.from(c.sub(a).abs().dataSync()));
    assert.ok(gap > 1e-4, `trained step projection has no effect (${gap})`);
    tf.dispose([x, a, b, c]);
    u.dispose();
    plain.dispose();
  });

  it('positional bias: starts at zero (same outputs as without it), then makes the output depend on position', () => {
    const plain = createUNet(SMALL, 9);
    const pos = createUNet({ ...SMALL, positional: true }, 9);
    assert.deepEqual(pos.weights.get('in.pos')?.shape, [8, 8, 8]);
    assert.equal(pos.params - plain.params, 8 * 8 * 8);
    // a constant input: away from the borders a translation-equivariant net gives the same value everywhere
    const x = tf.fill([1, 8, 8, 1], 0.3);
    const a = plain.net(x, 0.1);
    const b = pos.net(x, 0.1);
    assertClose(Array.from(b.dataSync()), Array.from(a.dataSync()), 0, 1e-7, 'fresh positional vs plain');
    pos.weights.get('out.w')?.assign(randn([3, 3, 8, 1], 10));
    pos.weights.get('in.pos')?.assign(randn([8, 8, 8], 11));
    const c = pos.net(x, 0.1).dataSync();
    const centre = [c[3 * 8 + 3], c[3 * 8 + 4], c[4 * 8 + 3], c[4 * 8 + 4]];
    assert.ok(Math.max(...centre) - Math.min(...centre) > 1e-3, `interior outputs ${centre} ignore position`);
    tf.dispose([x, a, b]);
    plain.dispose();
    pos.dispose();
  });

  it("the gradient of a batch is the sum of its images' gradients (images are independent in the UNet)", () => {
    // A kernel that mixes up images in its gradient (tfjs's cpu ResizeNearestNeighborGrad did, for every
    // image after the first) breaks this while leaving single-image gradient checks intact.
    const u = createUNet({ ...SMALL, channels: [8, 16, 16], positional: true }, 3);
    const x = randn([3, 8, 8, 1], 4);
    const r = randn([3, 8, 8, 1], 5);
    const c = tf.tensor1d([-0.5, 0.1, 0.7]);
    const vars = [...u.weights.values()];
    // random weights everywhere: with the zero-initialised output conv every other gradient would be 0
    tf.tidy(() => {
      vars.forEach((v, k) => {
        v.assign(randn(v.shape, 100 + k).mul(0.3));
      });
    });
    const gradsOf = (lo: number, n: number) => {
      const { grads } = tf.variableGrads(
        () =>
          u
            .net(x.slice(lo, n), c.slice(lo, n) as tf.Tensor1D)
            .mul(r.slice(lo, n))
            .sum() as tf.Scalar,
        vars,
      );
      return vars.map((v) => grads[v.name]);
    };
    const batch = gradsOf(0, 3);
    const perImage = [0, 1, 2].map((i) => gradsOf(i, 1));
    batch.forEach((g, k) => {
      const summed = perImage[0][k].add(perImage[1][k]).add(perImage[2][k]);
      assertClose(Array.from(g.dataSync()), Array.from(summed.dataSync()), 1e-3, 1e-5, `weight ${k}`);
    });
    tf.dispose([x, r, c, ...batch, ...perImage.flat()]);
    u.dispose();
  });

  it('rejects inputs of the wrong shape and inconsistent configs with clear errors', () => {
    const u = createUNet(SMALL, 1);
    const x = tf.zeros([2, 16, 16, 1]);
    assert.throws(() => u.net(x, 0.1), /UNet expects \[batch, 8, 8, 1\], got \[2,16,16,1\]/);
    assert.throws(
      () => u.net(tf.zeros([2, 8, 8, 1]), tf.tensor1d([0.1, 0.2, 0.3])),
      /3 noise levels for a batch of 2/,
    );
    assert.throws(
      () => createUNet({ ...SMALL, resolution: 10, channels: [8, 16, 16] }),
      /not divisible by 2\^2/,
    );
    assert.throws(() => createUNet({ ...SMALL, groups: 3 }), /not divisible by 3 groups/);
    x.dispose();
    u.dispose();
  });
});

describe('groupNorm', () => {
  for (const act of ['none', 'silu'] as const)
    for (const shifted of [false, true])
      it(`fused kernels (native backend) match the op-by-op reference on cpu: values and every gradient (act ${act}${shifted ? ', with a per-image shift' : ''})`, async function () {
        if (!tf.findBackendFactory(NATIVE_BACKEND)) {
          if (process.env.SFD_REQUIRE_NATIVE === '1')
            throw new Error('native backend required but not registered');
          this.skip();
        }
        // odd sizes, batch 1 and 3, 2 channels per group and 1 (groups = channels)
        for (const [shape, groups] of [
          [[3, 5, 4, 8], 4],
          [[1, 3, 7, 6], 6],
        ] as const) {
          const c = shape[3];
          const run = () =>
            tf.tidy(() => {
              const x = randn([...shape], 1)
                .mul(3)
                .add(1) as tf.Tensor4D;
              const g = randn([c], 2) as tf.Tensor1D;
              const b = randn([c], 3) as tf.Tensor1D;
              // a shift several times x's spread: its sums are folded in closed form, not added element-wise
              const sh = randn([shape[0], c], 5).mul(6).add(2) as tf.Tensor2D;
              const w = randn([...shape], 4);
              const gn = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor, si?: tf.Tensor) =>
                groupNorm(
                  xi as tf.Tensor4D,
                  gi as tf.Tensor1D,
                  bi as tf.Tensor1D,
                  groups,
                  1e-5,
                  act,
                  si as tf.Tensor2D | undefined,
                );
              const f = (...t: tf.Tensor[]) => gn(t[0], t[1], t[2], t[3]).mul(w).sum();
              const inputs = shifted ? [x, g, b, sh] : [x, g, b];
              const y = gn(x, g, b, shifted ? sh : undefined);
              return [y, ...tf.grads(f)(inputs)].map((t) => Array.from(t.dataSync()));
            });
          const prev = tf.getBackend();
          await tf.setBackend(NATIVE_BACKEND);
          const ours = run();
          await tf.setBackend('cpu');
          const ref = run();
          await tf.setBackend(prev);
          assert.equal(ours.length, shifted ? 5 : 4);
          ['y', 'dx', 'dgamma', 'dbeta', 'dshift'].slice(0, ours.length).forEach((what, i) => {
            assertClose(ours[i], ref[i], 1e-4, 1e-4, `${what} [${shape}] ${groups} groups`);
          });
        }
      });

  it('refuses a shift that is not [batch, channels], before any work', () => {
    const x = tf.zeros([2, 3, 3, 4]) as tf.Tensor4D;
    const one = tf.ones([4]) as tf.Tensor1D;
    assert.throws(
      () => groupNorm(x, one, one, 2, 1e-5, 'silu', tf.zeros([1, 4]) as tf.Tensor2D),
      /a shift is \[2, 4\] for x \[2,3,3,4\], got \[1,4\]/,
    );
    tf.dispose([x, one]);
  });

  it('normalises each group to zero mean and unit variance (reference)', () => {
    const x = randn([2, 4, 4, 6], 9).mul(5).add(2) as tf.Tensor4D;
    const y = groupNormReference(x, tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D, 3);
    const { mean, variance } = tf.moments(y.reshape([2, 4, 4, 3, 2]), [1, 2, 4]);
    assertClose(Array.from(mean.dataSync()), Array(6).fill(0), 0, 1e-5, 'mean');
    assertClose(Array.from(variance.dataSync()), Array(6).fill(1), 1e-3, 0, 'variance');
    tf.dispose([x, y, mean, variance]);
  });
});
