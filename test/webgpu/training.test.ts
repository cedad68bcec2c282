import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { edmPrecond } from '../../lib/diffusion/precond';
import { defaultSchedule, timeGrid } from '../../lib/diffusion/schedules';
import { solverByName } from '../../lib/diffusion/solvers/registry';
import { createFeatureNet } from '../../lib/eval/featureNet';
import { gaussianDenoiser } from '../../lib/models/gaussian';
import { createUNet, type UNetConfig, unetRawNet } from '../../lib/models/unet';
import { type SfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { sfdIteration } from '../../lib/sfd/iteration';
import { Adam } from '../../lib/train/adam';
import { edmLoss } from '../../lib/train/edmLoss';
import { namedGrads } from '../../lib/train/namedGrads';
import { makeRng } from '../../lib/util/rng';
import { maxRelDiff, onBoth, requireWebgpu, values } from './twoBackends';

// A small UNet with every block kind: residual blocks, down- and up-sampling, mid attention, step condition.
const small: Partial<UNetConfig> = {
  resolution: 8,
  inChannels: 1,
  channels: [8, 16],
  groups: 4,
  embedDim: 8,
  attention: true,
  stepCondition: true,
};

const normal = (n: number, seed: number) => {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};

describe('WebGPU: training, distillation and sampling agree with cpu', function () {
  this.timeout(300_000);
  before(async function () {
    await requireWebgpu(this);
  });

  it('one EDM training step of a small UNet: same loss, gradients and Adam-updated weights', async () => {
    const b = 2;
    const x0 = normal(b * 64, 1).map((v) => 0.5 * Math.tanh(v));
    const noise = normal(b * 64, 2);
    const sigmas = Float32Array.from([0.3, 2.5]);
    const r = await onBoth(async () => {
      const u = createUNet(small, 3);
      const adam = new Adam(u.weights);
      const x = tf.tensor4d(x0, [b, 8, 8, 1]);
      const n = tf.tensor4d(noise, [b, 8, 8, 1]);
      const g = namedGrads(u.weights, () => ({
        loss: edmLoss((xin, cn) => u.net(xin, cn, { step: 2 }), x, sigmas, n),
      }));
      const grads = await values(...[...g.grads.values()].map((t) => t.clone()));
      adam.apply(g.grads, 1e-3);
      const [loss] = await values(g.loss);
      const after = await values(...[...u.weights.values()].map((w) => w.clone()));
      tf.dispose([x, n, ...g.grads.values()]);
      adam.dispose();
      u.dispose();
      return { loss: loss[0], grads, after };
    });
    assert.ok(
      Math.abs(r.gpu.loss - r.cpu.loss) <= 1e-5 * Math.abs(r.cpu.loss),
      `${r.gpu.loss} vs ${r.cpu.loss}`,
    );
    for (const [i, g] of r.cpu.grads.entries())
      assert.ok(maxRelDiff(g, r.gpu.grads[i]) < 1e-4, `gradient ${i}: ${maxRelDiff(g, r.gpu.grads[i])}`);
    for (const [i, w] of r.cpu.after.entries())
      assert.ok(maxRelDiff(w, r.gpu.after[i]) < 1e-5, `weight ${i} after Adam`);
  });

  it('one SFD iteration (DPM-Solver++(3M) teacher, K = 4, AFS, NFE 2): same step losses and updates', async () => {
    const cfg: SfdConfig = { ...sfdDefaults, nfes: [2], batch: 2 };
    const r = await onBoth(async () => {
      const teacherNet = createUNet({ ...small, stepCondition: false }, 5);
      tf.tidy(() => {
        const w = teacherNet.weights.get('out.w') as tf.Variable;
        w.assign(tf.tensor(normal(w.size, 6), w.shape).mul(0.05));
      });
      const student = createUNet({ ...small, stepCondition: false }, 5);
      const teacher = edmPrecond(unetRawNet(teacherNet));
      const denoise = edmPrecond(unetRawNet(student));
      const adam = new Adam(student.weights);
      const ctx = {
        cfg,
        teacher: () => teacher,
        student: { denoise, weights: student.weights },
        adam,
        shape: [8, 8, 1],
      };
      const it = await sfdIteration(ctx, 0, 1e-3);
      const w = await values((student.weights.get('out.w') as tf.Variable).clone());
      adam.dispose();
      teacherNet.dispose();
      student.dispose();
      return { it, w: w[0] };
    });
    assert.equal(r.gpu.it.updates, 2);
    assert.equal(r.gpu.it.teacherCalls, 12);
    assert.equal(r.gpu.it.nonFiniteGrads, 0);
    assert.ok(
      maxRelDiff(r.cpu.it.stepLosses, r.gpu.it.stepLosses) < 1e-4,
      `${r.cpu.it.stepLosses} vs ${r.gpu.it.stepLosses}`,
    );
    assert.ok(maxRelDiff(r.cpu.w, r.gpu.w) < 1e-4, 'the student weights after the iteration');
  });

  it('the sampling core on the exact Gaussian teacher: same endpoints as cpu', async () => {
    const g = { mean: 0.2, std: 0.7 };
    const z = normal(64, 7).map((v) => 80 * v);
    for (const name of ['euler', 'heun', 'dpm2', 'ipndm', 'dpmpp-3m']) {
      const ts = timeGrid(9, defaultSchedule);
      const r = await onBoth(async () => {
        const x = tf.tensor2d(z, [64, 1]);
        const out = solverByName(name).solve(gaussianDenoiser(g), x, ts, { keep: [] });
        const [v] = await values(out.x);
        tf.dispose([x, ...out.trajectory]);
        return v;
      });
      assert.ok(maxRelDiff(r.cpu, r.gpu) < 1e-5, `${name}: ${maxRelDiff(r.cpu, r.gpu)}`);
      // the solve moved the states from t = 80 to about the data's scale (it is not a no-op on either)
      assert.ok(
        r.gpu.every((v, i) => Math.abs(v) < 0.05 * Math.abs(z[i]) + 3),
        name,
      );
    }
  });

  it('the feature network (FID/PRDC features): same features as cpu', async () => {
    const px = normal(3 * 784, 8).map((v) => Math.tanh(v));
    const r = await onBoth(async () => {
      const net = createFeatureNet(0);
      const x = tf.tensor4d(px, [3, 28, 28, 1]);
      const a = net.activations(x);
      const v = await values(a.features, a.logits);
      tf.dispose(a.convs);
      x.dispose();
      net.dispose();
      return v;
    });
    assert.ok(maxRelDiff(r.cpu[0], r.gpu[0]) < 1e-4, 'features');
    assert.ok(maxRelDiff(r.cpu[1], r.gpu[1]) < 1e-4, 'logits');
  });
});
