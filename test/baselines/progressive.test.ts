import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkPdConfig,
  type PdConfig,
  pdDefaults,
  pdIteration,
  pdRoundSteps,
  pdSampling,
} from '../../lib/baselines/progressiveDistillation';
import { trainProgressiveMnist } from '../../lib/baselines/progressiveMnist';
import { pdRoundGrid, pdTarget, pdWeight } from '../../lib/baselines/progressiveTargets';
import { toyPdDefaults, toyProgressive } from '../../lib/baselines/progressiveToy';
import { loadMnist, type MnistSet } from '../../lib/data/mnist';
import { timeGrid } from '../../lib/diffusion/schedules';
import { eulerStep } from '../../lib/diffusion/solvers/euler';
import { meanDistance, toyNoise } from '../../lib/experiments/toySolve';
import { gmmDenoise64, gmmDenoiser, gmmOdeSolution } from '../../lib/models/gmm';
import { copyToyMlp, createToyMlp, fitToyMlp, type ToyMlp } from '../../lib/models/toyMlp';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { loadUNet } from '../../lib/models/unetFiles';
import { toyEulerEndpoints } from '../../lib/sfd/toyDistill';
import { Adam } from '../../lib/train/adam';
import { saveTinyMnistTeacher } from '../helpers';

const gmm = TOY_MIXTURES.ring();
const schedule = pdDefaults.schedule;

describe('Progressive Distillation: the target', () => {
  it('one Euler step of a denoiser answering x̃ lands on the teacher’s two-step point (float32 vs a float64 hand computation)', () => {
    const grid = pdRoundGrid(4, schedule);
    const x = [
      [0.7, -0.4],
      [2.5, 1.5],
      [-0.2, 0.9],
    ];
    const teacher = gmmDenoiser(gmm);
    for (const n of [0, 1, 3]) {
      const [t, tMid, tNext] = grid.ts.slice(2 * n, 2 * n + 3);
      assert.equal(tNext, grid.studentTs[n + 1]);
      const scale = t; // states at σ(n) are of size σ(n)
      const xt = tf.tensor2d(x.map((r) => r.map((v) => v * scale)));
      const target = pdTarget(teacher, xt, grid, n);
      // the student's one step with D = x̃
      const landed = eulerStep(() => target.clone(), xt, t, tNext);
      const got = landed.arraySync() as number[][];
      const tgt = target.arraySync() as number[][];
      x.forEach((row, i) => {
        // by hand, float64: two Euler steps of the exact denoiser, then x̃ = x_t − t(x″ − x_t)/(tNext − t)
        const x0 = row.map((v) => v * scale);
        const euler = (y: number[], a: number, b: number) => {
          const d = gmmDenoise64(gmm, y, a);
          return y.map((v, j) => v + ((b - a) * (v - d[j])) / a);
        };
        const x2 = euler(euler(x0, t, tMid), tMid, tNext);
        const want = x0.map((v, j) => v - (t * (x2[j] - v)) / (tNext - t));
        const tol = 2e-5 * (1 + scale);
        row.forEach((_, j) => {
          assert.ok(Math.abs(got[i][j] - x2[j]) < tol, `n=${n}: landed ${got[i][j]} vs teacher ${x2[j]}`);
          assert.ok(
            Math.abs(tgt[i][j] - want[j]) < tol * (t / (t - tNext)),
            `n=${n}: x̃ ${tgt[i][j]} vs ${want[j]}`,
          );
        });
      });
      tf.dispose([xt, target, landed]);
    }
  });

  it('a round’s student grid is its sampler’s grid, bit for bit; weights are max(σ⁻², 1) or EDM’s λ', () => {
    for (const s of [1, 2, 8, 32])
      assert.deepEqual(pdRoundGrid(s, schedule).studentTs, timeGrid(s + 1, schedule));
    assert.deepEqual(pdRoundSteps({ startSteps: 64, finalSteps: 2 }), [32, 16, 8, 4, 2]);
    assert.deepEqual(pdRoundSteps({ startSteps: 96, finalSteps: 3 }), [48, 24, 12, 6, 3]);
    assert.equal(pdWeight('truncated-snr', 80), 1);
    assert.ok(Math.abs(pdWeight('truncated-snr', 0.1) - 100) < 1e-9);
    assert.ok(Math.abs(pdWeight('edm', 80) - 4) < 1e-3);
  });

  it('refuses impossible configurations in one line', () => {
    const bad: [Partial<PdConfig>, RegExp][] = [
      [{ startSteps: 48 }, /start steps 48 cannot be halved down to 2: it must be 2·2\^k/],
      [{ startSteps: 64, finalSteps: 3 }, /cannot be halved down to 3/],
      [{ startSteps: 2, finalSteps: 2 }, /start steps 2 must exceed final steps 2/],
      [{ batch: 0 }, /batch must be a positive integer, got 0/],
      [{ iterationsPerRound: 2.5 }, /iterations per round must be a positive integer, got 2.5/],
      [{ lr: 0 }, /learning rate must be > 0/],
      [{ weighting: 'snr' as PdConfig['weighting'] }, /unknown weighting 'snr'/],
      [{ schedule: { ...schedule, kind: 'logsnr' } }, /PD halves a polynomial grid/],
    ];
    for (const [over, re] of bad)
      assert.throws(
        () => checkPdConfig({ ...pdDefaults, ...over }),
        (e: Error) => re.test(e.message) && !e.message.includes('\n'),
      );
    checkPdConfig({ ...pdDefaults, startSteps: 96, finalSteps: 3 }); // general halving is fine
  });
});

describe('Progressive Distillation of a 2-D MLP against the exact ring mixture', function () {
  this.timeout(120_000);
  // held-out noise (a seed no PD iteration draws from) and its exact PF-ODE endpoints (float64 RK4)
  const xT = toyNoise(200, 2, schedule.tMax, 90_210);
  const exact = xT.map((z) => gmmOdeSolution(gmm, z, schedule.tMax, [schedule.tMin], 100)[0]);
  let fitted: ToyMlp;
  before(() => {
    fitted = createToyMlp({}, 0);
    fitToyMlp(fitted, gmm);
  });
  after(() => fitted.dispose());

  it('an iteration makes 2 teacher calls and 1 student call and leaks no tensors', async () => {
    const student = copyToyMlp(fitted);
    const adam = new Adam(student.weights);
    const cfg = { ...toyPdDefaults, batch: 16 };
    const data = () =>
      tf.tensor2d(
        Array.from({ length: 32 }, (_, i) => Math.sin(i)),
        [16, 2],
      );
    const ctx = { cfg, teacher: gmmDenoiser(gmm), student, adam, data, shape: [2] };
    await pdIteration(ctx, 0, 0, 1e-3);
    const before = tf.memory().numTensors;
    const r = await pdIteration(ctx, 1, 5, 1e-3);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak across iterations');
    assert.deepEqual([r.teacherCalls, r.studentCalls, r.steps], [2, 1, 4]);
    assert.ok(r.n >= 0 && r.n < 4 && r.sigma === pdRoundGrid(4, schedule).studentTs[r.n]);
    await assert.rejects(pdIteration(ctx, 3, 0, 1e-3), /PD round 3 does not exist \(the run has 3\)/);
    adam.dispose();
    student.dispose();
  });

  it('16 → 2 steps: the 2-step student’s Euler endpoints are far closer to the exact ones than the fitted MLP’s Euler at 2 steps', async () => {
    const before = tf.memory().numTensors;
    const r = await toyProgressive(fitted, gmm);
    assert.deepEqual(
      r.state.rounds.map((x) => x.steps),
      [8, 4, 2],
    );
    const sampling = pdSampling(2, schedule);
    const plain = meanDistance(await toyEulerEndpoints(fitted.denoise, sampling, 2, xT), exact);
    const distilled = meanDistance(await toyEulerEndpoints(r.student.denoise, sampling, 2, xT), exact);
    const teacher16 = meanDistance(
      await toyEulerEndpoints(gmmDenoiser(gmm), pdSampling(16, schedule), 16, xT),
      exact,
    );
    // measured: fitted MLP Euler 2 steps 0.803 → PD student 0.103 (the exact 16-step Euler it distils: 0.057)
    console.log(
      `      PD 16→2 (${r.state.seconds.toFixed(1)} s): 2-step student ${distilled.toFixed(4)}, fitted MLP Euler@2 ${plain.toFixed(4)}, exact Euler@16 ${teacher16.toFixed(4)}`,
    );
    assert.ok(distilled <= 0.6 * plain, `PD ${distilled.toFixed(4)} vs Euler ${plain.toFixed(4)}`);
    r.student.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });
});

// 2 rounds (4 → 2 → 1 steps) of 3 iterations, checkpoints every 2 iterations of the run
const tiny: PdConfig = {
  ...pdDefaults,
  startSteps: 4,
  finalSteps: 1,
  iterationsPerRound: 3,
  batch: 2,
  lr: 1e-3,
  checkpointEvery: 2,
  logEvery: 2,
};

describe('Progressive Distillation of a tiny MNIST-shaped UNet', function () {
  this.timeout(120_000);
  let dir: string;
  let teacherDir: string;
  let data: MnistSet;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-pd-'));
    teacherDir = join(dir, 'teacher');
    await saveTinyMnistTeacher(teacherDir);
    data = loadMnist('train', undefined, false);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stopping part-way and resuming gives the uninterrupted run’s weights bit for bit; the card records each round', async () => {
    const before = tf.memory().numTensors;
    const straight = join(dir, 'straight');
    const evaluate = (s: { nfe: number }) => 100 + s.nfe; // a stand-in score: which sampler was scored
    const run = (out: string, extra: object = {}) =>
      trainProgressiveMnist({
        config: tiny,
        teacher: teacherDir,
        out,
        data,
        evaluate,
        evalEvery: 2,
        ...extra,
      });
    const a = await run(straight);
    assert.ok(a.done);
    // stop inside round 2 (after 4 of 6 iterations: its teacher is round 1's student), and at a round's end
    for (const stopAt of [4, 3]) {
      const out = join(dir, `stopped-${stopAt}`);
      const part = await run(out, { stopAt });
      assert.ok(!part.done && part.iterations === stopAt);
      await assert.rejects(run(out), /already holds a model or run/);
      await assert.rejects(
        run(out, { resume: true, config: { ...tiny, lr: 2e-3 } }),
        /was made with lr = 0.001, this run has 0.002 \(a PD run resumes with its own settings/,
      );
      const b = await run(out, { resume: true });
      assert.ok(b.done && b.iterations === 6);
      const ma = loadUNet(straight);
      const mb = loadUNet(out);
      assert.equal(mb.sha256, ma.sha256, `resumed from ${stopAt}`);
      const losses = (d: string) =>
        JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')).log.map(
          ({ seconds: _, ...p }: { seconds: number }) => p,
        );
      assert.deepEqual(losses(out), losses(straight), 'the same loss log (times aside)');
      ma.unet.dispose();
      mb.unet.dispose();
    }
    const card = JSON.parse(readFileSync(join(straight, 'model.json'), 'utf8'));
    assert.equal(card.method, 'progressive-distillation');
    assert.deepEqual(card.pd.sampling, { nfes: [1], afs: false, schedule, condition: 'none' });
    assert.deepEqual(
      card.pd.rounds.map((r: { steps: number; fid: number }) => [r.steps, r.fid]),
      [
        [2, 102],
        [1, 101],
      ],
    );
    assert.deepEqual(
      card.evals.map((e: { iteration: number; nfe: number }) => [e.iteration, e.nfe]),
      [
        [2, 2],
        [3, 2],
        [5, 1],
        [6, 1],
      ],
    );
    assert.equal(card.iterations, 6);
    assert.equal(card.log.length, 4);
    assert.ok(card.wallSeconds >= 0 && typeof card.backend === 'string');
    assert.equal(card.teacher.dir, teacherDir);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });

  it('refuses a PD student as teacher, and a batch larger than the data', async () => {
    const student = join(dir, 'student-as-teacher');
    await trainProgressiveMnist({ config: tiny, teacher: teacherDir, out: student, data });
    await assert.rejects(
      trainProgressiveMnist({ config: tiny, teacher: student, out: join(dir, 'x'), data }),
      /is a distilled student: PD distils a plain teacher/,
    );
    const few: MnistSet = { ...data, n: 3 };
    await assert.rejects(
      trainProgressiveMnist({
        config: { ...tiny, batch: 4 },
        teacher: teacherDir,
        out: join(dir, 'y'),
        data: few,
      }),
      /batch size must be in 1\.\.3, got 4/,
    );
  });
});
