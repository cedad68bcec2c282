import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type CdConfig, cdDefaults, cdGrid, checkCdConfig } from '../../lib/baselines/consistencyConfig';
import {
  cdIteration,
  cdL2Distance,
  cdMixtureData,
  planCdIteration,
  trainConsistency,
} from '../../lib/baselines/consistencyDistillation';
import { trainConsistencyImages } from '../../lib/baselines/consistencyImages';
import {
  type ConsistencyNetwork,
  consistencyFunction,
  consistencyScalings,
} from '../../lib/baselines/consistencyModel';
import {
  consistencySample,
  consistencySamplerFromCard,
  searchMidTau,
} from '../../lib/baselines/consistencySampler';
import { cdCommand, cdConfigFromArgs } from '../../lib/cli/distillCd';
import { loadMnist, type MnistSet } from '../../lib/data/mnist';
import { edmPrecond } from '../../lib/diffusion/precond';
import { euler } from '../../lib/diffusion/solvers/euler';
import { heunStep } from '../../lib/diffusion/solvers/heun';
import { meanDistance, toyNoise } from '../../lib/experiments/toySolve';
import { gmmDenoiser, gmmOdeSolution, sampleGmm } from '../../lib/models/gmm';
import { copyToyMlp, createToyMlp, fitToyMlp, type ToyMlp } from '../../lib/models/toyMlp';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { createUNet, unetRawNet } from '../../lib/models/unet';
import { loadUNet } from '../../lib/models/unetFiles';
import { Adam } from '../../lib/train/adam';
import { makeRng } from '../../lib/util/rng';
import { saveTinyMnistTeacher } from '../helpers';

const gmm = TOY_MIXTURES.ring();
const { tMin, tMax } = cdDefaults.schedule;

const toyNetwork = (m: ToyMlp): ConsistencyNetwork => ({
  weights: m.weights,
  net: m.net,
  dispose: m.dispose,
});

/** A toy MLP whose output layer is not zero (so F matters). */
function randomMlp(seed: number): ToyMlp {
  const m = createToyMlp({ hidden: 16, layers: 2 }, seed);
  tf.tidy(() => {
    const w = m.weights.get('out.w') as tf.Variable;
    w.assign(tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + 1));
  });
  return m;
}

/** 2·E|X−Y| − E|X−X′| − E|Y−Y′|: zero only for equal distributions (a distributional score, unlike endpoints). */
function energyDistance(a: number[][], b: number[][]): number {
  const mean = (p: number[][], q: number[][]) =>
    p.reduce((s, u) => s + q.reduce((t, v) => t + Math.hypot(u[0] - v[0], u[1] - v[1]), 0), 0) /
    (p.length * q.length);
  return 2 * mean(a, b) - mean(a, a) - mean(b, b);
}

describe('Consistency distillation: the parametrisation', () => {
  it('f(x, σ_min) = x exactly, for one σ and per-sample σ, though F is not zero', () => {
    const m = randomMlp(3);
    const f = consistencyFunction(m.net, { sigmaMin: tMin, sigmaData: 0.5 });
    const x = tf.tensor2d([
      [0.3, -1.7],
      [12.5, 4.25],
      [-0.001, 3e-7],
    ]);
    const one = f(x, tMin);
    assert.deepEqual(Array.from(one.dataSync()), Array.from(x.dataSync()));
    const per = f(x, [tMin, 1.5, tMin]);
    const rows = per.arraySync() as number[][];
    const xs = x.arraySync() as number[][];
    assert.deepEqual(rows[0], xs[0]);
    assert.deepEqual(rows[2], xs[2]);
    assert.ok(Math.hypot(rows[1][0] - xs[1][0], rows[1][1] - xs[1][1]) > 0.1, 'above σ_min F acts');
    // per-sample σ gives what one σ gives
    const single = f(x, 1.5).arraySync() as number[][];
    for (const [j, v] of rows[1].entries()) assert.ok(Math.abs(v - single[1][j]) < 1e-6);
    const s = consistencyScalings(tMin, tMin);
    assert.deepEqual([s.cSkip, s.cOut], [1, 0]);
    assert.throws(() => consistencyScalings(0.001, tMin), /σ ≥ σ_min/);
    tf.dispose([x, one, per]);
    m.dispose();
  });

  it("at initialisation f is the teacher's EDM denoiser up to the σ_min shift of c_skip, c_out (measured on the grid)", () => {
    const u = createUNet({ resolution: 8, inChannels: 1, channels: [8], attention: false, embedDim: 8 }, 2);
    tf.tidy(() => {
      const w = u.weights.get('out.w') as tf.Variable;
      w.assign(tf.randomNormal(w.shape, 0, 0.1, 'float32', 4));
    });
    const D = edmPrecond(unetRawNet(u));
    const f = consistencyFunction(u.net, { sigmaMin: tMin, sigmaData: 0.5 });
    const gaps: number[] = [];
    for (const sigma of cdGrid(cdDefaults)) {
      const [a, b, x] = tf.tidy(() => {
        const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5).mul(sigma);
        return [f(x, sigma), D(x, sigma), x];
      });
      // in data units (pixels in [−1, 1])
      gaps.push(tf.tidy(() => a.sub(b).abs().max().dataSync()[0]));
      tf.dispose([a, b, x]);
    }
    // measured: 2e-5 at σ = 80 rising to 3e-3 near σ_min (there D − x = c_out^EDM(σ)·F ≈ σ·F, f − x → 0)
    console.log(
      `      |f − D| at init on the 18-point grid: ${gaps.map((g) => g.toExponential(0)).join(' ')}`,
    );
    assert.ok(Math.max(...gaps) < 1e-2, gaps.join(' '));
    u.dispose();
  });
});

describe('Consistency distillation: one iteration', () => {
  it('draws n in {0 … N−2} as a function of (seed, iteration), grouped for the teacher', () => {
    const cfg = { ...cdDefaults, batch: 64 };
    const a = planCdIteration(cfg, 7);
    const b = planCdIteration(cfg, 7);
    assert.deepEqual(a.ns, b.ns);
    assert.notDeepEqual(planCdIteration(cfg, 8).ns, a.ns);
    assert.ok(a.ns.every((n) => Number.isInteger(n) && n >= 0 && n <= cfg.nGrid - 2));
    assert.ok(a.ns.includes(cfg.nGrid - 2), 'the last pair (σ_{N−2} → σ_min) is drawn');
    assert.deepEqual(
      a.ns,
      [...a.ns].sort((p, q) => p - q),
    );
    assert.equal(
      a.groups.reduce((s, g) => s + g.size, 0),
      64,
    );
    assert.equal(a.grid[0], tMax);
    assert.equal(a.grid[cfg.nGrid - 1], tMin);
  });

  it('on the last pair the target is the teacher’s Heun step itself (f = x at σ_min), and the loss is d to it', async () => {
    // N = 2: n is always 0, one Heun step 80 → σ_min
    const cfg: CdConfig = { ...cdDefaults, nGrid: 2, batch: 8, ema: 0 };
    const teacher = gmmDenoiser(gmm);
    const m = randomMlp(9);
    const adam = new Adam(m.weights);
    const data = cdMixtureData(gmm, cfg.batch, cfg.seed);
    // the loss by hand, before the update
    const plan = planCdIteration(cfg, 0);
    const x0 = data(0);
    const eps = tf.tensor(
      Float32Array.from({ length: x0.size }, () => plan.rng.normal()),
      x0.shape,
    );
    const xn = x0.add(eps.mul(tMax));
    const want = tf.tidy(() => {
      const target = heunStep(teacher, xn, tMax, tMin);
      const f = consistencyFunction(m.net, { sigmaMin: tMin, sigmaData: 0.5 });
      return cdL2Distance(f(xn, tMax), target).mean().dataSync()[0];
    });
    const before = tf.memory().numTensors;
    const ctx = {
      cfg,
      online: toyNetwork(m),
      target: null,
      ema: null,
      adam,
      teacher,
      data,
      distance: cdL2Distance,
    };
    const r = await cdIteration(ctx, 0, 1e-3);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
    assert.equal(r.teacherCalls, 2, 'one Heun step: 2 teacher calls');
    assert.ok(Math.abs(r.loss - want) <= 1e-6 * Math.max(1, want), `${r.loss} vs ${want}`);
    assert.equal(adam.step, 1);
    tf.dispose([x0, eps, xn]);
    adam.dispose();
    m.dispose();
  });
});

describe('Consistency distillation on an exact teacher (2-D ring mixture)', function () {
  this.timeout(120_000);
  const xT = toyNoise(200, 2, tMax, 90_210); // held out: no iteration draws from this seed
  const exact = xT.map((z) => gmmOdeSolution(gmm, z, tMax, [tMin], 100)[0]);
  let fitted: ToyMlp;
  before(() => {
    fitted = createToyMlp({}, 0);
    fitToyMlp(fitted, gmm);
  });
  after(() => fitted.dispose());

  it('the 1-NFE consistency model lands ≤ 0.6× as far from the exact ODE endpoints as Euler at NFE 1; 2 NFE improves the distribution', async () => {
    const x = tf.tensor2d(xT);
    const eu = euler(fitted.denoise, x, [tMax, tMin]);
    const eulerErr = meanDistance(eu.x.arraySync() as number[][], exact);
    eu.x.dispose();
    const before = tf.memory().numTensors;
    const online = copyToyMlp(fitted);
    const cfg: CdConfig = {
      ...cdDefaults,
      batch: 256,
      iterations: 300,
      ema: 0.99,
      lr: { lr: 1e-4, warmupImages: 0, drops: [] },
    };
    const r = await trainConsistency({
      config: cfg,
      network: toyNetwork(online),
      create: () => toyNetwork(createToyMlp({}, 0)),
      teacher: gmmDenoiser(gmm),
      data: cdMixtureData(gmm, cfg.batch, cfg.seed),
      clamp: false,
    });
    assert.equal(r.log.length, 300);
    assert.ok(r.log.every((p) => p.teacherCalls === 2 * planCdIteration(cfg, p.iteration - 1).groups.length));
    const one = r.sampler.sample(x, 1);
    const cdErr = meanDistance(one.arraySync() as number[][], exact);
    // measured: CD 0.216 vs Euler 0.996 (0.22×); the online weights alone 0.201
    assert.ok(cdErr <= 0.6 * eulerErr, `CD 1 NFE ${cdErr.toFixed(4)} vs Euler NFE 1 ${eulerErr.toFixed(4)}`);
    console.log(`      endpoint error at 1 NFE: CD ${cdErr.toFixed(4)}, Euler ${eulerErr.toFixed(4)}`);

    // 2 NFE: the re-noising draw makes the endpoint a sample, not a function of x_T, so it is scored by
    // its distribution: the energy distance to mixture samples (one held-out set picks the middle σ by
    // CM's ternary search, another scores it)
    const pick = sampleGmm(gmm, 200, makeRng(41));
    const judge = sampleGmm(gmm, 200, makeRng(42));
    const z = tf.tensor2d(toyNoise(200, 2, 1, 5));
    const twoAt = (mid: number) => {
      const out = r.sampler.sampleAt(x, [tMax, mid], { noise: [z] });
      const rows = out.arraySync() as number[][];
      out.dispose();
      return rows;
    };
    const found = await searchMidTau(cdGrid(cfg).slice(1, -1), (mid) => energyDistance(twoAt(mid), pick));
    const ed1 = energyDistance(one.arraySync() as number[][], judge);
    const ed2 = energyDistance(twoAt(found.mid), judge);
    // measured: middle σ 0.140 (7 of 16 candidates scored), energy distance 0.0099 at 2 NFE vs 0.0183 at
    // 1 NFE; the exact endpoints score 0.0073 (the floor of 200 against 200 samples)
    console.log(
      `      2 NFE: middle σ ${found.mid.toFixed(3)} (${found.scores.length} candidates scored); energy distance ${ed2.toFixed(4)} vs ${ed1.toFixed(4)} at 1 NFE, ${energyDistance(exact, judge).toFixed(4)} for the exact endpoints`,
    );
    assert.ok(
      found.scores.length < cdGrid(cfg).length - 2,
      'the ternary search scores fewer than all candidates',
    );
    assert.ok(ed2 < 0.7 * ed1, `2 NFE ${ed2} vs 1 NFE ${ed1}`);
    tf.dispose([one, z]);
    r.model.dispose();
    online.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensors left but the caller’s');
    x.dispose();
  });

  it('μ > 0 keeps a separate target network; the sampler counts one f call per NFE', async () => {
    const online = copyToyMlp(fitted);
    const cfg: CdConfig = { ...cdDefaults, batch: 32, iterations: 3, targetEma: 0.9, ema: 0 };
    const r = await trainConsistency({
      config: cfg,
      network: toyNetwork(online),
      create: () => toyNetwork(createToyMlp({}, 0)),
      teacher: gmmDenoiser(gmm),
      data: cdMixtureData(gmm, cfg.batch, cfg.seed),
      clamp: false,
    });
    // ema 0: the shipped model is the online network
    for (const [k, v] of r.model.weights)
      assert.deepEqual(
        Array.from(v.dataSync()),
        Array.from((online.weights.get(k) as tf.Variable).dataSync()),
      );
    let n = 0;
    const counted = {
      ...r.model,
      net: (xi: tf.Tensor, c: number | tf.Tensor1D) => {
        n++;
        return r.model.net(xi, c);
      },
    };
    const f = consistencyFunction(counted.net, { sigmaMin: tMin, sigmaData: 0.5 });
    const x = tf.tensor2d(xT.slice(0, 4));
    const y = consistencySample(f, x, [tMax, 2, 0.3], { sigmaMin: tMin, clamp: false, seed: 1 });
    assert.equal(n, 3);
    tf.dispose([x, y]);
    r.model.dispose();
    online.dispose();
  });
});

describe('Consistency distillation: the MNIST trainer (tiny MNIST-shaped teacher)', function () {
  this.timeout(120_000);
  let dir: string;
  let teacherDir: string;
  let mnist: MnistSet;
  const tiny: CdConfig = {
    ...cdDefaults,
    batch: 2,
    iterations: 4,
    checkpointEvery: 2,
    targetEma: 0.5,
    ema: 0.9,
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-cd-'));
    teacherDir = join(dir, 'teacher');
    await saveTinyMnistTeacher(teacherDir);
    mnist = loadMnist('train');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // a cheap held-out score for the curves: the mean pixel of 4 samples
  const evaluate = (s: { sample: (x: tf.Tensor, nfe: number) => tf.Tensor }, nfe: number) =>
    tf.tidy(
      () =>
        s
          .sample(tf.randomNormal([4, 28, 28, 1], 0, tMax, 'float32', 1), nfe)
          .mean()
          .dataSync()[0],
    );

  it('resume reproduces the uninterrupted run bit for bit; the card says how to sample', async () => {
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    const base = { config: tiny, teacher: teacherDir, data: mnist, evalEvery: 2, evaluate };
    const before = tf.memory().numTensors;
    await trainConsistencyImages({ ...base, out: straight });
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
    await trainConsistencyImages({ ...base, out: resumed, stopAt: 2 });
    await assert.rejects(trainConsistencyImages({ ...base, out: resumed }), /already holds a model or run/);
    await assert.rejects(
      trainConsistencyImages({ ...base, config: { ...tiny, nGrid: 10 }, out: resumed, resume: true }),
      /was made with nGrid = 18, this run has 10 \(only --iterations may change\)/,
    );
    const r = await trainConsistencyImages({ ...base, out: resumed, resume: true });
    assert.equal(r.iterations, 4);
    const a = loadUNet(straight);
    const b = loadUNet(resumed);
    assert.equal(a.sha256, b.sha256, 'the same shipped weights');
    const card = JSON.parse(readFileSync(join(resumed, 'model.json'), 'utf8'));
    assert.deepEqual(card.cd.sampling, { taus1: [80], taus2: [80, cdDefaults.midTau] });
    assert.equal(card.cd.config.targetEma, 0.5);
    assert.equal(card.log.length, 4);
    assert.deepEqual(
      card.evals.map((e: { iteration: number; nfe: number }) => [e.iteration, e.nfe]),
      [0, 2, 4].flatMap((i) => [
        [i, 1],
        [i, 2],
      ]),
    );
    assert.equal(card.teacher.sha256, loadUNet(teacherDir).sha256);
    assert.ok(card.wallSeconds >= 0 && typeof card.backend === 'string');
    // the sampler from the card: 1 NFE is f(x_T, 80) clamped
    const s = consistencySamplerFromCard(b.card, b.unet);
    const x = tf.randomNormal([2, 28, 28, 1], 0, tMax, 'float32', 8);
    const y = s.sample(x, 1);
    const f = consistencyFunction(b.unet.net, { sigmaMin: tMin, sigmaData: 0.5 });
    const want = tf.tidy(() => f(x, tMax).clipByValue(-1, 1));
    assert.deepEqual(Array.from(y.dataSync()), Array.from(want.dataSync()));
    const y2 = s.sample(x, 2, { seed: 3 });
    assert.ok(y2.max().dataSync()[0] <= 1 && y2.min().dataSync()[0] >= -1);
    assert.throws(() => s.sample(x, 3), /NFE 1 or 2/);
    tf.dispose([x, y, y2, want]);
    for (const m of [a, b]) m.unet.dispose();
  });

  it('trains with the LPIPS-style distance on images', async () => {
    const r = await trainConsistencyImages({
      config: { ...tiny, iterations: 2, loss: 'lpips' },
      teacher: teacherDir,
      data: mnist,
      out: join(dir, 'lpips'),
    });
    assert.ok(r.log.every((p) => Number.isFinite(p.loss) && p.loss > 0));
  });

  it('refuses impossible configurations and teachers with one-line reasons', async () => {
    const bad: [Partial<CdConfig>, RegExp][] = [
      [{ nGrid: 1 }, /N ≥ 2/],
      [{ targetEma: 1 }, /μ must be in \[0, 1\)/],
      [{ ema: -0.1 }, /sampling EMA rate/],
      [{ midTau: 90 }, /middle σ must lie strictly between/],
      [{ batch: 0 }, /batch must be a positive integer/],
      [{ schedule: { ...cdDefaults.schedule, tMin: 100 } }, /0 < tMin < tMax/],
      [{ schedule: { ...cdDefaults.schedule, kind: 'logsnr' } }, /ρ-polynomial/],
      [{ loss: 'l1' as CdConfig['loss'] }, /unknown loss 'l1'/],
    ];
    for (const [c, re] of bad) assert.throws(() => checkCdConfig({ ...cdDefaults, ...c }), re);
    const m = createToyMlp({}, 0);
    const common = {
      network: toyNetwork(m),
      create: () => toyNetwork(createToyMlp({}, 0)),
      teacher: gmmDenoiser(gmm),
      data: cdMixtureData(gmm, 4, 0),
      clamp: false,
    };
    await assert.rejects(
      trainConsistency({ ...common, config: { ...tiny, loss: 'lpips' } }),
      /needs a perceptual distance/,
    );
    await assert.rejects(
      trainConsistency({ ...common, config: tiny, searchMidTau: true }),
      /needs an evaluate function/,
    );
    await assert.rejects(
      trainConsistency({ ...common, config: tiny, stopAt: 1 }),
      /stopAt needs a run folder/,
    );
    m.dispose();
    // a consistency model is not a teacher
    await trainConsistencyImages({
      config: { ...tiny, iterations: 1 },
      teacher: teacherDir,
      data: mnist,
      out: join(dir, 'cd1'),
    });
    await assert.rejects(
      trainConsistencyImages({ config: tiny, teacher: join(dir, 'cd1'), data: mnist, out: join(dir, 'cd2') }),
      /is a distilled student/,
    );
    // the CLI: bad values fail before any work
    assert.equal(cdConfigFromArgs({ 'n-grid': '40', 'target-ema': '0.95' }).nGrid, 40);
    await assert.rejects(
      cdCommand(['--out', join(dir, 'x'), '--ema', '1.5']),
      /sampling EMA rate must be in \[0, 1\), got 1.5/,
    );
    await assert.rejects(
      cdCommand(['--out', join(dir, 'x'), '--n-grid', '1']),
      /--n-grid must be an integer ≥ 2/,
    );
    await assert.rejects(cdCommand(['--out', join(dir, 'x'), '--mid-tau', '1', '--tau-search']), /not both/);
    await assert.rejects(cdCommand(['--method', 'pd', '--out', join(dir, 'x')]), /--method cd, not 'pd'/);
    await assert.rejects(cdCommand(['--teacher', teacherDir]), /needs --out DIR/);
  });
});
