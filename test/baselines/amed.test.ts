import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type AmedConfig, amedDefaults } from '../../lib/baselines/amedConfig';
import { loadAmed } from '../../lib/baselines/amedModel';
import { amedIpndmStep, amedNfe, amedStepsForNfe } from '../../lib/baselines/amedPlugin';
import {
  amedPredictorDefaults,
  constantFactors,
  createAmedPredictor,
} from '../../lib/baselines/amedPredictor';
import { amedSampler, countAmedCalls } from '../../lib/baselines/amedSampler';
import {
  type AmedTeacher,
  gmmAmedTeacher,
  perSample,
  unetAmedTeacher,
} from '../../lib/baselines/amedTeacher';
import { trainAmed } from '../../lib/baselines/amedTrain';
import { amedIteration } from '../../lib/baselines/amedTraining';
import { amedWalk } from '../../lib/baselines/amedWalk';
import { amedConfigFromArgs } from '../../lib/cli/distillAmed';
import { withAfs } from '../../lib/diffusion/afs';
import { edmPrecond } from '../../lib/diffusion/precond';
import { timeGrid } from '../../lib/diffusion/schedules';
import { ipndm } from '../../lib/diffusion/solvers/ipndm';
import { exactEndpoints, meanDistance, solveToy, toyNoise } from '../../lib/experiments/toySolve';
import { gmmDenoiser } from '../../lib/models/gmm';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { createUNet, unetRawNet } from '../../lib/models/unet';
import { saveUNet } from '../../lib/models/unetFiles';
import { Adam } from '../../lib/train/adam';
import { namedGrads } from '../../lib/train/namedGrads';
import { assertClose } from '../helpers';

/** Gaussian data N(0, s2): D(x, t) = x·s2/(s2 + t²), with the per-sample form AMED needs. */
const S2 = 0.25;
const gaussTeacher: AmedTeacher = {
  denoise: (x, t) => x.mul(S2 / (S2 + t * t)),
  denoiseEach: (x, t) => x.mul(perSample(t.square().add(S2).reciprocal().mul(S2) as tf.Tensor1D, x.rank)),
  feature: (_x, d) => d.clone() as tf.Tensor2D,
  featureDim: 1,
};
const D = (x: number, t: number) => (x * S2) / (S2 + t * t);

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('AMED-Plugin on iPNDM', () => {
  it('amedIpndmStep with r = 0.5, a = c = 1 and no history equals the hand-computed step', () => {
    const xs = [1.5, -0.7];
    const [t, tNext] = [2, 0.5];
    const r = tf.tidy(() => {
      const s = amedIpndmStep(gaussTeacher, constantFactors(0.5), tf.tensor2d(xs, [2, 1]), t, tNext, [], {
        maxOrder: 4,
        afs: false,
      });
      return { x: values(s.x), h: s.history.map(values) };
    });
    const mid = Math.sqrt(t * tNext); // σ_{n+1}^½ σ_n^½
    const expected = xs.map((x) => {
      const d0 = (x - D(x, t)) / t;
      const xMid = x + (mid - t) * d0; // Euler: no history yet
      const dMid = (xMid - D(xMid, mid)) / mid;
      return { x: xMid + (tNext - mid) * (1.5 * dMid - 0.5 * d0), d0, dMid };
    });
    assertClose(
      r.x,
      expected.map((e) => e.x),
      1e-6,
      1e-7,
      'x_{n+1}',
    );
    assertClose(
      r.h[0],
      expected.map((e) => e.dMid),
      1e-6,
      1e-7,
      'newest history entry d(s_n)',
    );
    assertClose(
      r.h[1],
      expected.map((e) => e.d0),
      1e-6,
      1e-7,
      'then d(σ_n)',
    );
  });

  it('a_n scales the intermediate call’s time (divided by s_n), c_n the second sub-step; AB orders grow', () => {
    const xs = [0.9, -1.3];
    const hs = [0.2, -0.4];
    const [t, tNext, rr, a, c] = [2, 0.5, 0.3, 1.1, 0.99];
    const r = tf.tidy(() => {
      const h = tf.tensor2d(hs, [2, 1]);
      const s = amedIpndmStep(
        gaussTeacher,
        constantFactors(rr, a, c),
        tf.tensor2d(xs, [2, 1]),
        t,
        tNext,
        [h],
        {
          maxOrder: 3,
          afs: false,
        },
      );
      assert.equal(s.history.length, 2, 'maxOrder 3 keeps 2 directions');
      return values(s.x);
    });
    const mid = tNext ** rr * t ** (1 - rr);
    const expected = xs.map((x, i) => {
      const d0 = (x - D(x, t)) / t;
      const xMid = x + (mid - t) * (1.5 * d0 - 0.5 * hs[i]); // order 2
      const dMid = (xMid - D(xMid, a * mid)) / mid;
      return xMid + c * (tNext - mid) * ((23 * dMid - 16 * d0 + 5 * hs[i]) / 12); // order 3
    });
    assertClose(r, expected, 1e-6, 1e-7, 'x_{n+1}');
  });

  it('with constant factors the plugin is iPNDM on the grid with s_n inserted (AFS included)', async () => {
    const teacher = gmmAmedTeacher(TOY_MIXTURES.ring());
    const ts = timeGrid(5, amedDefaults.schedule);
    const r = 0.4;
    const fine = ts.flatMap((t, i) => (i + 1 < ts.length ? [t, ts[i + 1] ** r * t ** (1 - r)] : [t]));
    const xT = tf.tensor2d(toyNoise(16, 2, ts[0], 3));
    const a = await amedWalk(teacher, constantFactors(r), xT, ts, { maxOrder: 4, afs: true });
    const b = ipndm(withAfs(teacher.denoise, ts[0]), xT, fine, { maxOrder: 4 });
    assertClose(values(a), values(b.x), 1e-4, 1e-5, 'endpoint');
    tf.dispose([xT, a, b.x]);
  });

  it('NFE: two teacher calls per step, one fewer with AFS (official 2(N − 1) − AFS)', async () => {
    assert.equal(amedNfe(4, true), 5);
    assert.equal(amedNfe(4, false), 6);
    assert.equal(amedStepsForNfe(5, true), 4);
    assert.equal(amedStepsForNfe(3, true), 3);
    assert.throws(() => amedStepsForNfe(4, true), /odd with AFS/);
    assert.throws(() => amedStepsForNfe(5, false), /even without AFS/);
    for (const afs of [true, false]) {
      const counted = countAmedCalls(gmmAmedTeacher(TOY_MIXTURES.ring()));
      const s = amedSampler(counted.teacher, constantFactors(0.5), { ...amedDefaults, afs });
      const xT = tf.tensor2d(toyNoise(4, 2, s.ts[0], 1));
      (await s.sample(xT)).dispose();
      xT.dispose();
      assert.equal(counted.calls(), s.nfe);
      assert.equal(counted.calls(), afs ? 5 : 6);
    }
  });

  it('the per-sample teachers agree with the plain ones (mixture; UNet under edmPrecond)', () => {
    const g = TOY_MIXTURES.grid();
    const u = createUNet(
      { resolution: 8, inChannels: 1, channels: [8, 8], attention: false, embedDim: 8 },
      2,
    );
    tf.tidy(() => {
      const x = tf.tensor2d(toyNoise(3, 2, 1.5, 9));
      const each = gmmAmedTeacher(g).denoiseEach(x, tf.tensor1d([0.3, 0.3, 0.3]));
      assertClose(values(each), values(gmmDenoiser(g)(x, 0.3)), 1e-5, 1e-6, 'mixture');
      const img = tf.randomNormal([2, 8, 8, 1], 0, 2, 'float32', 4);
      const t = unetAmedTeacher(u);
      assertClose(
        values(t.denoiseEach(img, tf.tensor1d([1.7, 1.7]))),
        values(edmPrecond(unetRawNet(u))(img, 1.7)),
        1e-5,
        1e-6,
        'UNet',
      );
      assert.deepEqual(t.feature(img, img).shape, [2, 16], 'feature: the 4×4 lowest-resolution map');
    });
    u.dispose();
  });

  it('predictor: r ∈ (0, 1), a and c within their scales; the gradient reaches every weight, a’s through the teacher’s time', () => {
    const teacher = gmmAmedTeacher(TOY_MIXTURES.ring());
    const p = createAmedPredictor({ ...amedPredictorDefaults, featureDim: 2 }, 1);
    const x = tf.tensor2d(toyNoise(8, 2, 3, 5));
    const f = p.predict(x, 3, 1);
    const within = (v: tf.Tensor, lo: number, hi: number) => values(v).every((e) => e > lo && e < hi);
    assert.ok(within(f.r, 0, 1) && within(f.scaleTime, 0.8, 1.2) && within(f.scaleDir, 0.99, 1.01));
    const g = namedGrads(p.weights, () => ({
      loss: amedIpndmStep(teacher, p.predict, x, 3, 1, [], { maxOrder: 4, afs: false })
        .x.square()
        .sum() as tf.Scalar,
    }));
    for (const [k, v] of g.grads)
      assert.ok(tf.tidy(() => v.abs().sum().dataSync()[0]) > 0, `gradient of ${k}`);
    tf.dispose([x, f.r, f.scaleTime, f.scaleDir, g.loss, ...g.grads.values()]);
    p.dispose();
  });

  it('exact ring teacher: trained on teacher trajectories, AMED(iPNDM) at NFE 5 beats plain iPNDM at NFE 5 on held-out noise', async function () {
    this.timeout(60_000);
    const gmm = TOY_MIXTURES.ring();
    const teacher = gmmAmedTeacher(gmm);
    const cfg: AmedConfig = { ...amedDefaults, m: 4, batch: 32, iterations: 100 };
    const predictor = createAmedPredictor({ ...amedPredictorDefaults, featureDim: 2 }, 0);
    const adam = new Adam(predictor.weights);
    const ctx = { cfg, teacher, predictor, adam, shape: [2] };
    await amedIteration(ctx, 0); // warm-up
    const before = tf.memory().numTensors;
    for (let it = 1; it < cfg.iterations; it++) await amedIteration(ctx, it);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak across iterations');
    const xs = toyNoise(500, 2, cfg.schedule.tMax, 12345); // held out: training noise comes from (seed, iteration)
    const exact = exactEndpoints(gmm, xs, cfg.schedule);
    const xT = tf.tensor2d(xs);
    const s = amedSampler(teacher, predictor, cfg);
    const out = await s.sample(xT);
    const amed = meanDistance(out.arraySync() as number[][], exact);
    tf.dispose([xT, out]);
    const plain = (afs: boolean) => {
      const r = solveToy(gmm, xs, 'ipndm', 5, afs, cfg.schedule);
      return meanDistance(r.trajectory[r.trajectory.length - 1], exact);
    };
    const [withAfsErr, noAfsErr] = [plain(true), plain(false)];
    const best = Math.min(withAfsErr, noAfsErr);
    console.log(
      `      endpoint error at NFE 5: AMED-Plugin(iPNDM) ${amed.toFixed(4)}; iPNDM ${withAfsErr.toFixed(4)} (AFS), ${noAfsErr.toFixed(4)} (no AFS)`,
    );
    assert.ok(amed <= 0.8 * best, `AMED ${amed} vs the better plain iPNDM ${best}`);
    adam.dispose();
    predictor.dispose();
  });

  it('sampling leaks no tensors', async () => {
    const teacher = gmmAmedTeacher(TOY_MIXTURES.ring());
    const p = createAmedPredictor({ ...amedPredictorDefaults, featureDim: 2 }, 0);
    const s = amedSampler(teacher, p, amedDefaults);
    const xT = tf.tensor2d(toyNoise(8, 2, s.ts[0], 2));
    (await s.sample(xT)).dispose();
    const before = tf.memory().numTensors;
    (await s.sample(xT)).dispose();
    assert.equal(tf.memory().numTensors, before);
    xT.dispose();
    p.dispose();
  });

  it('the CLI config: --nfe picks the grid, odd with AFS', () => {
    assert.equal(amedConfigFromArgs({ nfe: '7' }).numSteps, 5);
    assert.equal(amedConfigFromArgs({ nfe: '6', 'no-afs': true }).numSteps, 4);
    assert.throws(() => amedConfigFromArgs({ nfe: '6' }), /odd with AFS/);
    assert.throws(() => amedConfigFromArgs({ nfe: '5', steps: '4' }), /not both/);
  });
});

describe('AMED trainer (tiny MNIST-shaped teacher)', function () {
  this.timeout(60_000);
  let dir: string;
  let teacherDir: string;
  let otherDir: string;
  const tiny: AmedConfig = { ...amedDefaults, batch: 2, iterations: 4, checkpointEvery: 2 };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-amed-'));
    teacherDir = join(dir, 'teacher');
    otherDir = join(dir, 'other');
    for (const [d, seed] of [
      [teacherDir, 7],
      [otherDir, 8],
    ] as const) {
      // a random (untrained) teacher with a non-zero output layer: AMED only needs a denoiser to follow
      const u = createUNet(
        {
          resolution: 28,
          inChannels: 1,
          channels: [8, 8, 8],
          attention: false,
          embedDim: 8,
          positional: true,
        },
        seed,
      );
      tf.tidy(() => {
        const w = u.weights.get('out.w') as tf.Variable;
        w.assign(tf.randomNormal(w.shape, 0, 0.05, 'float32', seed));
      });
      await saveUNet(d, u.weights, u.config, { steps: 0 });
      u.dispose();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resume reproduces the uninterrupted run bit for bit; the card references the teacher; the model samples at NFE 5', async () => {
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    await trainAmed({ config: tiny, teacher: teacherDir, out: straight });
    await trainAmed({ config: tiny, teacher: teacherDir, out: resumed, stopAt: 2 });
    await assert.rejects(
      trainAmed({ config: tiny, teacher: teacherDir, out: resumed }),
      /already holds a model or run/,
    );
    await assert.rejects(
      trainAmed({ config: { ...tiny, m: 3 }, teacher: teacherDir, out: resumed, resume: true }),
      /was made with m = 2, this run has 3/,
    );
    await trainAmed({ config: tiny, teacher: teacherDir, out: resumed, resume: true });
    const card = (d: string) => JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    const [a, b] = [card(straight), card(resumed)];
    assert.equal(b.sha256, a.sha256, 'the same predictor weights');
    assert.deepEqual(
      b.log.map((p: { stepLosses: number[] }) => p.stepLosses),
      a.log.map((p: { stepLosses: number[] }) => p.stepLosses),
    );
    assert.equal(a.format, 'sfd-amed');
    assert.equal(a.amed.solver, 'ipndm');
    assert.equal(a.amed.nfe, 5);
    assert.equal(a.amed.grid.length, 4);
    assert.equal(a.amed.predictor.featureDim, 49, 'the 7×7 lowest-resolution map');
    assert.equal(a.teacher.sha256, card(teacherDir).sha256);
    assert.ok(a.params < 10_000 && a.wallSeconds >= 0);
    assert.throws(() => loadAmed(straight, { teacher: otherDir }), /was trained on the teacher with sha256/);
    const m = loadAmed(straight);
    assert.equal(m.sampler.nfe, 5);
    const xT = tf.randomNormal([2, 28, 28, 1], 0, m.sampler.ts[0], 'float32', 1);
    const y = await m.sampler.sample(xT);
    assert.deepEqual(y.shape, [2, 28, 28, 1]);
    assert.ok(values(y).every(Number.isFinite));
    tf.dispose([xT, y]);
    m.dispose();
  });
});
