import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { defaultSchedule, timeGrid } from '../../lib/diffusion/schedules';
import { solverByName } from '../../lib/diffusion/solvers/registry';
import { meanDistance, toyNoise } from '../../lib/experiments/toySolve';
import { gmmDenoiser, gmmOdeSolution } from '../../lib/models/gmm';
import { copyToyMlp, createToyMlp, fitToyMlp, type ToyMlp } from '../../lib/models/toyMlp';
import { TOY_MIXTURES } from '../../lib/models/toys';

/** Heun endpoints (steps intervals on the EDM grid) of a denoiser from noise rows at t_max. */
function heunEndpoints(denoise: ToyMlp['denoise'], xT: number[][], steps: number): number[][] {
  const x = tf.tensor2d(xT);
  const r = solverByName('heun').solve(denoise, x, timeGrid(steps + 1, defaultSchedule));
  const rows = r.x.arraySync() as number[][];
  tf.dispose([x, r.x, ...r.trajectory]);
  return rows;
}

const weightValues = (m: ToyMlp) => new Map([...m.weights].map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('toy MLP denoiser for 2-D points', function () {
  this.timeout(60_000);

  it('is deterministic from its seed: same seed, same weights (also after a fit); another seed differs', () => {
    const before = tf.memory().numTensors;
    const gmm = TOY_MIXTURES.gmm2d();
    const a = createToyMlp({}, 7);
    const b = createToyMlp({}, 7);
    const c = createToyMlp({}, 8);
    assert.deepEqual(weightValues(a), weightValues(b));
    assert.notDeepEqual(weightValues(a).get('l0.w'), weightValues(c).get('l0.w'));
    assert.ok(
      weightValues(a)
        .get('out.w')
        ?.every((v) => v === 0),
      'output layer starts at zero',
    );
    fitToyMlp(a, gmm, { steps: 15, batch: 32, seed: 3 });
    fitToyMlp(b, gmm, { steps: 15, batch: 32, seed: 3 });
    assert.deepEqual(weightValues(a), weightValues(b), 'same fit, same weights');
    tf.dispose([a, b, c].flatMap((m) => [...m.weights.values()]));
    assert.equal(tf.memory().numTensors, before, 'create, fit and dispose leave no tensor behind');
  });

  it('starts as D = c_skip·x, takes one c_noise per sample, and checks its input', () => {
    const m = createToyMlp({ hidden: 16 }, 1);
    const x = tf.tensor2d([
      [0.3, -1],
      [2, 0.5],
    ]);
    const d = m.denoise(x, 0.5);
    const cSkip = 0.25 / (0.25 + 0.25);
    assert.deepEqual(Array.from(d.dataSync()), Array.from(x.mul(cSkip).dataSync()));
    const f = m.net(x, tf.tensor1d([0.1, -0.3]));
    assert.deepEqual(f.shape, [2, 2]);
    assert.throws(() => m.net(tf.zeros([2, 3]), 0.1), /expects \[batch, 2\]/);
    assert.throws(() => createToyMlp({ embedDim: 5 }), /even/);
    tf.dispose([x, d, f]);
    m.dispose();
  });

  it('a step-conditioned copy computes what the original does until it learns, and needs its condition', () => {
    const m = createToyMlp({ hidden: 32 }, 2);
    tf.tidy(() => {
      for (const w of m.weights.values()) w.assign(w.add(tf.randomUniform(w.shape, -0.1, 0.1, 'float32', 5)));
    });
    const cond = copyToyMlp(m, { stepCondition: true });
    assert.ok(cond.weights.has('step.l0.w') && !m.weights.has('step.l0.w'));
    const x = tf.tensor2d([
      [1, 2],
      [-0.5, 0.2],
    ]);
    const a = m.denoise(x, 1.3);
    const b = cond.denoise(x, 1.3, { step: 4 });
    const c = cond.denoise(x, 1.3, { tNext: 0.7 });
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    assert.deepEqual(Array.from(c.dataSync()), Array.from(a.dataSync()));
    assert.throws(() => cond.denoise(x, 1.3), /needs cond.step/);
    const plain = copyToyMlp(m);
    assert.notEqual(plain.weights.get('l0.w'), m.weights.get('l0.w'), 'a copy has its own variables');
    tf.dispose([x, a, b, c]);
    for (const n of [m, cond, plain]) n.dispose();
  });

  it('fitted to the exact ring mixture, its Heun ODE endpoints land on the exact ones (error ≪ mode spacing)', () => {
    const before = tf.memory().numTensors;
    const gmm = TOY_MIXTURES.gmm2d();
    const spacing = 2 * Math.sin(Math.PI / 8); // neighbouring modes of the 8-mode unit ring: 0.765
    const m = createToyMlp({}, 0);
    const fit = fitToyMlp(m, gmm); // toyFitDefaults: 800 steps of 256 points
    const early = fit.losses.slice(0, 50).reduce((a, b) => a + b) / 50;
    const late = fit.losses.slice(-50).reduce((a, b) => a + b) / 50;
    assert.ok(late < 0.1 * early, `fit loss ${early.toFixed(4)} → ${late.toFixed(5)}`);
    const xT = toyNoise(200, 2, defaultSchedule.tMax, 4242); // held-out noise
    // float64 RK4 at 100 steps per unit of log t: within 1e-9 of exactEndpoints' 400, 4× faster
    const exact = xT.map((z) => gmmOdeSolution(gmm, z, defaultSchedule.tMax, [defaultSchedule.tMin], 100)[0]);
    const err = meanDistance(heunEndpoints(m.denoise, xT, 64), exact);
    const exactHeun = meanDistance(heunEndpoints(gmmDenoiser(gmm), xT, 64), exact);
    // measured: 0.010 (the closed-form denoiser under the same Heun grid: 0.001)
    assert.ok(err < 0.04 && err < 0.05 * spacing, `fitted MLP Heun-64 endpoint error ${err.toFixed(4)}`);
    assert.ok(exactHeun < 0.005, `the exact denoiser's own Heun-64 error ${exactHeun.toFixed(4)}`);
    m.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });
});
