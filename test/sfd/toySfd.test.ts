import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { meanDistance, toyNoise } from '../../lib/experiments/toySolve';
import { gmmOdeSolution } from '../../lib/models/gmm';
import { createToyMlp, fitToyMlp, type ToyMlp } from '../../lib/models/toyMlp';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { toyEulerEndpoints, toySampling, toySfd, toySfdDefaults } from '../../lib/sfd/toyDistill';

const weightValues = (m: ToyMlp) => new Map([...m.weights].map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('SFD of a trainable 2-D MLP against an exact mixture teacher', function () {
  this.timeout(120_000);
  const gmm = TOY_MIXTURES.gmm2d();
  const { tMax, tMin } = toySfdDefaults.schedule;
  // held-out noise (a seed no SFD iteration draws from) and its exact PF-ODE endpoints (float64 RK4; at 100
  // steps per unit of log t it agrees with the default 400 to 1e-9)
  const xT = toyNoise(200, 2, tMax, 90_210);
  const exact = xT.map((z) => gmmOdeSolution(gmm, z, tMax, [tMin], 100)[0]);
  let fitted: ToyMlp;

  before(() => {
    fitted = createToyMlp({}, 0);
    fitToyMlp(fitted, gmm);
  });
  after(() => fitted.dispose());

  for (const nfe of [2, 3]) {
    it(`at NFE ${nfe} the distilled student's Euler endpoints are ≥ 3× closer to the exact ones than the undistilled MLP's`, async () => {
      const before = tf.memory().numTensors;
      const start = weightValues(fitted);
      const r = await toySfd(fitted, gmm, { cfg: { nfes: [nfe] } });
      assert.equal(r.log.length, r.cfg.iterations);
      const n = nfe + 2; // student timestamps with AFS
      for (const p of r.log) {
        assert.equal(p.updates, nfe, 'one Adam update per network step, none for AFS');
        assert.equal(p.teacherCalls, r.cfg.k * (n - 1), 'the teacher solves K·(N−1) steps');
        assert.equal(p.stepLosses.length, n - 1);
      }
      assert.deepEqual(weightValues(fitted), start, 'the fitted network is left as it was');
      const sampling = toySampling(r.cfg);
      const undistilled = meanDistance(await toyEulerEndpoints(fitted.denoise, sampling, nfe, xT), exact);
      const distilled = meanDistance(await toyEulerEndpoints(r.student.denoise, sampling, nfe, xT), exact);
      // measured: NFE 2 0.386 → 0.058, NFE 3 0.216 → 0.034 (≈ 6.5×; the teacher itself: 0.011, 0.004)
      assert.ok(
        distilled < undistilled / 3,
        `NFE ${nfe}: distilled ${distilled.toFixed(4)} vs undistilled Euler ${undistilled.toFixed(4)}`,
      );
      const last = r.log.slice(-10);
      const first = r.log.slice(0, 10);
      const lastStep = (ps: typeof r.log) => ps.reduce((a, p) => a + (p.stepLosses.at(-1) as number), 0);
      assert.ok(lastStep(last) < 0.5 * lastStep(first), 'the last step’s loss falls');
      r.student.dispose();
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    });
  }

  it('SFD-v: one step-conditioned student trained over NFEs 2 and 3 samples at both', async () => {
    const before = tf.memory().numTensors;
    const r = await toySfd(fitted, gmm, {
      cfg: { nfes: [2, 3], condition: 'step', iterations: 6, batch: 32, k: 2 },
    });
    assert.ok(r.student.config.stepCondition && r.student.weights.has('step.l0.w'));
    assert.deepEqual(new Set(r.log.map((p) => p.nfe)), new Set([2, 3]), 'both NFEs drawn');
    for (const nfe of [2, 3]) {
      const e = await toyEulerEndpoints(r.student.denoise, toySampling(r.cfg), nfe, xT.slice(0, 8));
      assert.ok(
        e.flat().every((v) => Number.isFinite(v)),
        `NFE ${nfe} samples`,
      );
    }
    r.student.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });
});
