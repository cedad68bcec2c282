import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../../lib/diffusion/afs';
import type { Denoiser } from '../../lib/diffusion/denoiser';
import { edmScalings } from '../../lib/diffusion/precond';
import { euler } from '../../lib/diffusion/solvers/euler';
import { exactEndpoints, meanDistance } from '../../lib/experiments/toySolve';
import { gmmDenoiser } from '../../lib/models/gmm';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { type SfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { iterationNoise, sfdIteration } from '../../lib/sfd/iteration';
import { planIteration } from '../../lib/sfd/plan';
import type { Student } from '../../lib/sfd/studentStep';
import { trajectoryDistance } from '../../lib/sfd/trajectoryDistance';
import { Adam } from '../../lib/train/adam';

/**
 * A student made of the closed-form mixture denoiser plus a small correction network whose output layer
 * starts at zero: at iteration 0 it is exactly the teacher, and SFD can only move it by learning.
 */
function correctedStudent(teacher: Denoiser, hidden = 64, seed = 1): Student & { dispose(): void } {
  const w = new Map<string, tf.Variable>([
    ['l0.w', tf.tidy(() => tf.variable(tf.randomNormal([3, hidden], 0, Math.sqrt(2 / 3), 'float32', seed)))],
    ['l0.b', tf.tidy(() => tf.variable(tf.zeros([hidden])))],
    [
      'l1.w',
      tf.tidy(() =>
        tf.variable(tf.randomNormal([hidden, hidden], 0, Math.sqrt(2 / hidden), 'float32', seed + 1)),
      ),
    ],
    ['l1.b', tf.tidy(() => tf.variable(tf.zeros([hidden])))],
    ['out.w', tf.tidy(() => tf.variable(tf.zeros([hidden, 2])))],
    ['out.b', tf.tidy(() => tf.variable(tf.zeros([2])))],
  ]);
  const W = (k: string) => w.get(k) as tf.Variable;
  const denoise: Denoiser = (x, t) =>
    tf.tidy(() => {
      const { cIn, cOut, cNoise } = edmScalings(t);
      const h0 = tf.concat([x.mul(cIn), tf.fill([x.shape[0], 1], cNoise)], 1) as tf.Tensor2D;
      const h1 = tf.matMul(h0, W('l0.w') as tf.Tensor2D).add(W('l0.b'));
      const h2 = tf
        .matMul(tf.mul(h1, tf.sigmoid(h1)) as tf.Tensor2D, W('l1.w') as tf.Tensor2D)
        .add(W('l1.b'));
      const corr = tf
        .matMul(tf.mul(h2, tf.sigmoid(h2)) as tf.Tensor2D, W('out.w') as tf.Tensor2D)
        .add(W('out.b'));
      return teacher(x, t).add(corr.mul(cOut));
    });
  return { denoise, weights: w, dispose: () => tf.dispose([...w.values()]) };
}

describe('SFD on an exact teacher (2-D Gaussian mixture)', function () {
  this.timeout(120_000);

  it('a distilled NFE-2 student lands much closer to the exact ODE endpoints than undistilled Euler at NFE 2', async () => {
    const gmm = TOY_MIXTURES.gmm2d();
    const teacher = gmmDenoiser(gmm);
    const cfg: SfdConfig = {
      ...sfdDefaults,
      nfes: [2],
      // K = 8 without thresholding: a teacher within 0.011 of the exact endpoints (K = 4: 0.085), so the
      // comparison with the exact ODE measures the student, not the teacher's own error
      k: 8,
      teacherThreshold: false,
      batch: 256,
      iterations: 300,
      lr: { lr: 3e-3, warmupImages: 0, drops: [{ atFraction: 0.5, factor: 0.1 }] },
    };
    const student = correctedStudent(teacher);
    const adam = new Adam(student.weights);
    const ctx = { cfg, teacher: () => teacher, student, adam, shape: [2] };
    // held-out noise (an iteration index training never reaches) and its exact endpoints
    const xT = iterationNoise({ ...cfg, batch: 200 }, 10_000, [2]);
    const z = xT.arraySync() as number[][];
    const exact = exactEndpoints(gmm, z, cfg.schedule);
    const ts = planIteration(cfg, 0).grid.studentTs;
    const endpoints = () => {
      const r = euler(withAfs(student.denoise, ts[0]), xT, ts);
      const e = r.x.arraySync() as number[][];
      r.x.dispose();
      return e;
    };
    const before = meanDistance(endpoints(), exact);
    const lrAt = (i: number) => (i < cfg.iterations / 2 ? 3e-3 : 3e-4);
    const first = await sfdIteration(ctx, 0, lrAt(0));
    assert.equal(first.updates, 2, 'NFE 2 with AFS: two network steps, two updates');
    assert.equal(first.teacherCalls, 8 * 3, 'the teacher spends K·(N−1) calls');
    assert.equal(first.studentCalls, 2, 'one student call per trained step, none for AFS, no second forward');
    for (let i = 1; i < cfg.iterations; i++) await sfdIteration(ctx, i, lrAt(i));
    const after = meanDistance(endpoints(), exact);
    // the undistilled student is the teacher run with Euler at NFE 2
    assert.ok(before > 0.05, `undistilled Euler error ${before}`);
    assert.ok(
      after < 0.5 * before,
      `distilled ${after.toFixed(4)} vs undistilled Euler ${before.toFixed(4)}`,
    );
    xT.dispose();
    adam.dispose();
    student.dispose();
  });

  it('trajectoryDistance is zero for a student that is its teacher run the teacher’s way, positive otherwise', async () => {
    const teacher = gmmDenoiser(TOY_MIXTURES.gmm2d());
    const same = {
      ...sfdDefaults,
      teacherSolver: 'euler',
      teacherThreshold: false,
      k: 1,
      afs: false,
      batch: 64,
    };
    const d0 = await trajectoryDistance(teacher, teacher, same, [2]);
    assert.equal(d0.ts.length, 2, 'NFE 2 without AFS: timestamps t1, t2');
    assert.deepEqual(d0.l2, [0, 0]);
    const d1 = await trajectoryDistance(teacher, teacher, { ...sfdDefaults, batch: 64 }, [2]);
    assert.ok(d1.l2.length === 3 && d1.l2.every((l) => l > 0) && d1.l2[2] > 0.05, d1.l2.join());
  });

  it('only-steps trains the chosen student steps alone (one update per iteration)', async () => {
    const teacher = gmmDenoiser(TOY_MIXTURES.gmm2d());
    const student = correctedStudent(teacher);
    const adam = new Adam(student.weights);
    const cfg: SfdConfig = { ...sfdDefaults, nfes: [3], onlySteps: [2], batch: 8 };
    const r = await sfdIteration({ cfg, teacher: () => teacher, student, adam, shape: [2] }, 0, 1e-3);
    assert.equal(r.updates, 1);
    // NFE 3 with AFS: steps 0 (AFS), 1 (forward only), 2 (trained), 3 (forward only)
    assert.equal(r.studentCalls, 3, 'untrained steps still run, forward only');
    adam.dispose();
    student.dispose();
  });
});
