import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { countCalls, type Denoiser } from '../../lib/diffusion/denoiser';
import { polynomialGrid } from '../../lib/diffusion/schedules';
import { dpmpp } from '../../lib/diffusion/solvers/dpmpp';
import { dynamicThreshold } from '../../lib/diffusion/solvers/dynamicThreshold';
import type { SolveOptions, Solver } from '../../lib/diffusion/solvers/integrate';
import { ipndm } from '../../lib/diffusion/solvers/ipndm';
import { SOLVER_NAMES, SOLVERS, solverByName } from '../../lib/diffusion/solvers/registry';
import { sampleDefaults, sampleToy } from '../../lib/experiments/sampleToy';
import { gaussianDenoiser } from '../../lib/models/gaussian';
import { makeRng } from '../../lib/util/rng';
import { assertClose } from '../helpers';

const D = gaussianDenoiser({ mean: 0.3, std: 0.5 });
const GRID = polynomialGrid(6, 0.006, 80);
const entries = Object.values(SOLVERS);
const numTensors = () => tf.memory().numTensors;

/** A denoiser that answers correctly until its n-th call, which returns `bad(x)` instead. */
function brokenOnCall(n: number, bad: (x: tf.Tensor) => tf.Tensor): Denoiser {
  let k = 0;
  return (x, t) => (++k === n ? tf.tidy(() => bad(x)) : D(x, t));
}

describe('solver registry and input validation', () => {
  it("solverByName('nope') throws, listing every known name and the aliases", () => {
    assert.throws(
      () => solverByName('nope'),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.startsWith("unknown solver 'nope'") &&
        SOLVER_NAMES.every((n) => e.message.includes(n)) &&
        /aliases: ddim, dpm, dpmpp/.test(e.message),
    );
    assert.deepEqual(SOLVER_NAMES, [
      'euler',
      'heun',
      'dpm2',
      'ipndm',
      'dpmpp-2m',
      'dpmpp-3m',
      'unipc',
      'deis',
    ]);
  });

  it('aliases ddim, dpm, dpmpp resolve to euler, dpm2, dpmpp-3m; every name resolves to itself', () => {
    assert.equal(solverByName('ddim'), SOLVERS.euler);
    assert.equal(solverByName('dpm'), SOLVERS.dpm2);
    assert.equal(solverByName('dpmpp'), SOLVERS['dpmpp-3m']);
    for (const name of SOLVER_NAMES) assert.equal(solverByName(name).name, name);
  });

  const badGrids: [string, number[], RegExp][] = [
    ['empty grid', [], /at least 2 timestamps, got 0/],
    ['one point', [80], /at least 2 timestamps, got 1/],
    ['increasing', [1, 2], /strictly decreasing; ts\[0\] = 1, ts\[1\] = 2/],
    ['repeated time', [80, 5, 5, 1], /strictly decreasing; ts\[1\] = 5, ts\[2\] = 5/],
    ['ends at 0', [80, 1, 0], /finite and > 0; ts\[2\] = 0/],
    ['negative time', [1, -1], /finite and > 0; ts\[1\] = -1/],
    ['NaN inside', [80, Number.NaN, 1], /finite and > 0; ts\[1\] = NaN/],
    ['infinite start', [Number.POSITIVE_INFINITY, 1], /finite and > 0; ts\[0\] = Infinity/],
  ];

  for (const entry of entries) {
    it(`${entry.name}: rejects bad grids, inputs and keep indices before calling the denoiser, leaking nothing`, () => {
      const counted = countCalls(D);
      const x = tf.ones([2, 3]);
      const start = numTensors();
      const fail = (what: string, re: RegExp, run: () => unknown) =>
        assert.throws(
          run,
          (e: Error) => e instanceof RangeError && re.test(e.message),
          `${entry.name}: ${what}`,
        );
      for (const [what, ts, re] of badGrids) fail(what, re, () => entry.solve(counted.denoise, x, ts));
      const flat = tf.ones([4]);
      const scalar = tf.scalar(1);
      fail('rank-1 input', /batch-first with rank ≥ 2, got shape \[4\]/, () =>
        entry.solve(counted.denoise, flat, GRID),
      );
      fail('rank-0 input', /rank ≥ 2, got shape \[\]/, () => entry.solve(counted.denoise, scalar, GRID));
      tf.dispose([flat, scalar]);
      for (const keep of [[6], [-1], [0, 2.5]]) {
        fail(`keep ${keep}`, new RegExp(`keep index ${keep.at(-1)} outside the grid \\[0, 5\\]`), () =>
          entry.solve(counted.denoise, x, GRID, { keep }),
        );
      }
      assert.equal(counted.calls(), 0, 'validation must come before any denoiser call');
      assert.equal(numTensors(), start, 'tensors leaked by a rejected call');
      x.dispose();
    });

    it(`${entry.name}: a denoiser answering with the wrong shape gives the 'denoiser returned shape' error, leaking nothing`, () => {
      const x = tf.ones([2, 3]);
      const start = numTensors();
      // Wrong batch, dropped dimension, and a failure deep in the run (history and trajectory in flight).
      const cases: [string, number, (x: tf.Tensor) => tf.Tensor, RegExp][] = [
        [
          'extra row',
          1,
          (z) => tf.zeros([z.shape[0] + 1, 3]),
          /shape \[3,3\] for input of shape \[2,3\] at t=80/,
        ],
        ['rank drop', 1, (z) => z.sum(-1), /shape \[2\] for input of shape \[2,3\]/],
        [
          'broadcastable [1,3] on call 4',
          4,
          () => tf.zeros([1, 3]),
          /shape \[1,3\] for input of shape \[2,3\]/,
        ],
      ];
      for (const [what, call, bad, re] of cases) {
        for (const opts of [{}, { keep: 'all' }] as SolveOptions[]) {
          assert.throws(
            () => entry.solve(brokenOnCall(call, bad), x, GRID, opts),
            (e: Error) => /^denoiser returned shape/.test(e.message) && re.test(e.message),
            `${entry.name}: ${what}`,
          );
          assert.equal(numTensors(), start, `${entry.name}: ${what}, keep ${opts.keep}: tensors leaked`);
        }
      }
      // A denoiser that throws on its own is cleaned up after as well.
      let k = 0;
      const throwing: Denoiser = (z, t) => {
        if (++k === 3) throw new Error('model crashed');
        return D(z, t);
      };
      assert.throws(() => entry.solve(throwing, x, GRID, { keep: 'all' }), /model crashed/);
      assert.equal(numTensors(), start, `${entry.name}: tensors leaked after a throwing denoiser`);
      x.dispose();
    });

    it(`${entry.name}: a solve leaves exactly the returned x and trajectory allocated (none, some, all kept)`, () => {
      const x = tf.ones([2, 3]);
      const start = numTensors();
      for (const keep of [undefined, [0, 3, 5], 'all'] as SolveOptions['keep'][]) {
        const r = entry.solve(D, x, GRID, { keep });
        const expected = keep === undefined ? 0 : keep === 'all' ? GRID.length : keep.length;
        assert.equal(r.trajectory.length, expected);
        assert.equal(numTensors(), start + 1 + r.trajectory.length, `keep ${keep}: unexpected tensors alive`);
        assert.ok(!x.isDisposed, 'the input must not be disposed');
        tf.dispose([r.x, ...r.trajectory]);
        assert.equal(numTensors(), start, `keep ${keep}: leak after disposing the results`);
      }
      x.dispose();
    });
  }

  it('dpmpp with dynamic thresholding leaks nothing either', () => {
    const x = tf.fill([2, 3], 80);
    const start = numTensors();
    const r = dpmpp(D, x, GRID, { threshold: true, keep: 'all' });
    assert.equal(numTensors(), start + 1 + GRID.length);
    tf.dispose([x, r.x, ...r.trajectory]);
    assert.equal(numTensors(), start - 1);
  });

  it('dpmpp threshold: true equals thresholding the denoiser by hand, and differs when |x0| > 1', () => {
    const wide = gaussianDenoiser({ mean: 1.5, std: 2 }); // x0 predictions well outside [-1, 1]
    const byHand = (xt: tf.Tensor, t: number) => tf.tidy(() => dynamicThreshold(wide(xt, t)));
    const x = tf.tensor2d([
      [40, -30, 10],
      [-80, 5, 60],
    ]);
    const a = dpmpp(wide, x, GRID, { threshold: true });
    const b = dpmpp(byHand, x, GRID);
    const c = dpmpp(wide, x, GRID);
    assertClose(Array.from(a.x.dataSync()), Array.from(b.x.dataSync()), 1e-6, 1e-6, 'thresholded');
    const gap = Math.max(...Array.from(a.x.sub(c.x).abs().dataSync()));
    assert.ok(gap > 0.1, `thresholding had no effect (max difference ${gap})`);
    tf.dispose([x, a.x, b.x, c.x]);
  });

  it('ipndm maxOrder outside 1..4 and dpmpp order outside 1..3 are rejected', () => {
    const x = tf.ones([2, 3]);
    const call = (solve: Solver<object>, opts: object) => () => solve(D, x, GRID, opts);
    for (const maxOrder of [5, 0, 2.5]) {
      assert.throws(
        call(ipndm, { maxOrder }),
        new RegExp(`ipndm: maxOrder must be an integer in 1..4, got ${maxOrder}`),
      );
      assert.throws(call(SOLVERS.ipndm.solve, { maxOrder }), /ipndm: maxOrder must be an integer in 1..4/);
    }
    for (const order of [4, 0, 1.5]) {
      assert.throws(
        call(dpmpp, { order }),
        new RegExp(`dpmpp: order must be an integer in 1..3, got ${order}`),
      );
    }
    x.dispose();
  });
});

/** Plain-JS dynamic thresholding of one sample (numpy's default linear quantile). */
function thresholdRef(xs: number[], q: number): number[] {
  const a = xs.map(Math.abs).sort((u, v) => u - v);
  const pos = q * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const s = Math.max(a[lo] + (a[hi] - a[lo]) * (pos - lo), 1);
  return xs.map((v) => Math.min(Math.max(v, -s), s) / s);
}

describe('dynamicThreshold', () => {
  it('leaves a sample alone when its |x| quantile is ≤ 1, else clips to ±s and divides by s (per sample)', () => {
    const rng = makeRng(11);
    const p = 60; // q·(p − 1) = 58.705: the quantile interpolates between the 2 largest |x|
    // Samples: all inside [−1, 1]; mostly small with a few large outliers; widely spread (scale 3, 10).
    const rows = [
      Array.from({ length: p }, () => 2 * rng.uniform() - 1),
      Array.from({ length: p }, (_, i) => (i === 7 ? 5 : i === 30 ? -2.5 : 0.5 * rng.normal())),
      Array.from({ length: p }, () => 3 * rng.normal()),
      Array.from({ length: p }, () => 10 * rng.normal()),
    ];
    // Batch-first of any rank: [4, 3, 4, 5] NHWC-like, p = 60 values per sample.
    const x = tf.tensor(rows.flat(), [4, 3, 4, 5]);
    const out = dynamicThreshold(x);
    assert.deepEqual(out.shape, x.shape);
    const got = Array.from(out.dataSync());
    rows.forEach((r, i) => {
      const want = thresholdRef(r, 0.995);
      assertClose(got.slice(i * p, (i + 1) * p), want, 1e-6, 1e-7, `sample ${i}`);
    });
    // Sample 0 is untouched; every other sample was rescaled so that its values lie in [−1, 1].
    assertClose(got.slice(0, p), rows[0], 1e-7, 0, 'sample 0 (|x| ≤ 1)');
    assert.ok(got.every((v) => Math.abs(v) <= 1 + 1e-7));
    for (const i of [1, 2, 3])
      assert.ok(Math.max(...rows[i].map(Math.abs)) > 1, `sample ${i} must need scaling`);
    // In sample 1 the largest |x| (5) lies above the quantile (≈ 4.26), so it is clipped to exactly ±1.
    assert.ok(
      got.slice(p, 2 * p).some((v) => Math.abs(v) === 1),
      'sample 1: the outlier must be clipped',
    );
    // Explicit quantile: q = 1 is the max, so nothing is clipped, only scaled.
    const all = dynamicThreshold(x, 1);
    rows.forEach((r, i) => {
      assertClose(
        Array.from(all.dataSync()).slice(i * p, (i + 1) * p),
        thresholdRef(r, 1),
        1e-6,
        1e-7,
        `q=1 #${i}`,
      );
    });
    tf.dispose([x, out, all]);
  });

  it('rejects a quantile outside (0, 1]', () => {
    const x = tf.ones([2, 4]);
    for (const q of [0, -0.5, 1.5, Number.NaN])
      assert.throws(() => dynamicThreshold(x, q), /quantile must be in \(0, 1\]/);
    x.dispose();
  });
});

describe('sfd sample (sampleToy) on the exact toy teacher', () => {
  it('dpmpp-3m --exact: mean endpoint error at NFE 20 is well below NFE 5 (gmm2d, n = 64)', () => {
    const run = (nfe: number) =>
      sampleToy({ ...sampleDefaults, solver: 'dpmpp-3m', nfe, n: 64, seed: 1, exact: true });
    const r5 = run(5);
    const r20 = run(20);
    for (const r of [r5, r20]) {
      assert.equal(r.exactSamples?.length, 64);
      assert.ok(Number.isFinite(r.meanEndpointError), 'endpoint error must be finite');
    }
    // Same seed, same noise: the exact endpoints agree, only the solver differs.
    assert.deepEqual(r5.exactSamples, r20.exactSamples);
    const [e5, e20] = [r5.meanEndpointError as number, r20.meanEndpointError as number];
    assert.ok(e20 < e5 / 2, `NFE 20 error ${e20} should be < half the NFE 5 error ${e5}`);
  });

  it('the reported nfe equals the requested NFE, with and without AFS, and the grid has steps + 1 points', () => {
    for (const [solver, nfe, afs] of [
      ['dpmpp-3m', 3, false],
      ['dpmpp-3m', 3, true],
      ['dpmpp-3m', 6, true],
      ['euler', 1, true],
      ['heun', 4, false],
      ['heun', 5, true],
      ['dpm2', 3, true],
      ['ipndm', 2, false],
    ] as const) {
      const r = sampleToy({ ...sampleDefaults, solver, nfe, afs, n: 8 });
      const what = `${solver} nfe ${nfe} afs ${afs}`;
      assert.equal(r.nfe, nfe, what);
      const steps = (nfe + (afs ? 1 : 0)) / SOLVERS[solver].evalsPerStep;
      assert.equal(r.ts.length, steps + 1, what);
      assert.equal(r.ts[0], sampleDefaults.tMax);
      assert.equal(r.trajectory.length, r.ts.length, what);
      assert.equal(r.samples.length, 8);
      assert.equal(r.exactSamples, undefined);
    }
  });

  it('unknown teacher, unknown solver, infeasible NFE and bad n throw clear errors', () => {
    assert.throws(
      () => sampleToy({ ...sampleDefaults, teacher: 'nope' }),
      /unknown teacher 'nope': one of gmm2d, ring, grid \(toy\), mnist, or a model directory/,
    );
    assert.throws(() => sampleToy({ ...sampleDefaults, solver: 'nope', n: 4 }), /unknown solver 'nope'/);
    assert.throws(() => sampleToy({ ...sampleDefaults, solver: 'heun', nfe: 3, n: 4 }), /NFE must be even/);
    assert.throws(() => sampleToy({ ...sampleDefaults, n: 0 }), /--n must be a positive integer/);
  });
});
