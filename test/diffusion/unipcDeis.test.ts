import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../../lib/diffusion/afs';
import { countCalls, type Denoiser, direction } from '../../lib/diffusion/denoiser';
import { defaultSchedule, logSnrGrid, polynomialGrid } from '../../lib/diffusion/schedules';
import { deis, deisCoefficients, deisStep, vpSigma, vpTime } from '../../lib/diffusion/solvers/deis';
import { dynamicThreshold } from '../../lib/diffusion/solvers/dynamicThreshold';
import type { Solver } from '../../lib/diffusion/solvers/integrate';
import { SOLVERS, stepsForNfe } from '../../lib/diffusion/solvers/registry';
import { type UnipcHistory, unipc, unipcCoefficients, unipcStep } from '../../lib/diffusion/solvers/unipc';
import { exactEndpoints, meanDistance, solveToy, toyNoise } from '../../lib/experiments/toySolve';
import { gaussianDenoiser, gaussianOdeSolution } from '../../lib/models/gaussian';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { assertClose, convergenceOrder, first } from '../helpers';

// The exact teacher of order.test.ts: N(0.3, 0.5²), from T = 5 down to 0.05 on log-SNR grids.
const g = { mean: 0.3, std: 0.5 };
const D = gaussianDenoiser(g);
const T = 5;
const T0 = 0.05;
const XT = 2;
const exact = (t: number) => gaussianOdeSolution(g, XT, T, t);
const fill = (v: number) => tf.fill([2, 1], v);
const grid = (steps: number) => logSnrGrid(steps + 1, T0, T);

function endpointError(solve: Solver<object>, steps: number, opts: object = {}): number {
  const x = fill(XT);
  const r = solve(D, x, grid(steps), opts);
  const err = Math.abs(first(r.x) - exact(T0));
  tf.dispose([x, r.x]);
  return err;
}

const measure = (ns: number[], err: (n: number) => number) =>
  convergenceOrder(
    ns,
    ns.map((n) => err(n)),
  );

/**
 * Runs an update at a fixed order from exact starting values (history filled from the closed form), so that
 * the measured order is the update formula's own, not the warm-up's.
 */
function unipcWarmError(order: number, ts: number[], corrector: boolean): number {
  let history: UnipcHistory = { denoised: [], ts: [] };
  for (let k = order - 1; k >= 0; k--) {
    const xe = fill(exact(ts[k]));
    history.denoised.push(D(xe, ts[k]));
    history.ts.push(ts[k]);
    xe.dispose();
  }
  let x = fill(exact(ts[order - 1]));
  for (let i = order - 1; i < ts.length - 1; i++) {
    const r = unipcStep(D, x, ts[i], ts[i + 1], history, order, { corrector, final: i === ts.length - 2 });
    x.dispose();
    x = r.x;
    history = r.history;
  }
  const err = Math.abs(first(x) - exact(ts[ts.length - 1]));
  tf.dispose([x, ...history.denoised]);
  return err;
}

function deisWarmError(order: number, ts: number[]): number {
  const coeffs = deisCoefficients(ts, order);
  let history: tf.Tensor[] = [];
  for (let k = order - 2; k >= 0; k--) {
    const xe = fill(exact(ts[k]));
    history.push(direction(D, xe, ts[k]));
    xe.dispose();
  }
  let x = fill(exact(ts[order - 1]));
  for (let i = order - 1; i < ts.length - 1; i++) {
    const r = deisStep(D, x, ts[i], coeffs[i], history, order - 1);
    x.dispose();
    x = r.x;
    history = r.history;
  }
  const err = Math.abs(first(x) - exact(ts[ts.length - 1]));
  tf.dispose([x, ...history]);
  return err;
}

// Float32 rounding (~1e-7) limits how far the errors can be followed: high orders are measured on coarse grids,
// where they are still slightly pre-asymptotic. (In float64 the same formulas give 1.00/2.00/3.00 for UniP-p,
// 2.00/3.00/3.97 for UniPC-p and 1.00/1.99/2.98/3.98 for DEIS order p, at 128–512 steps.)
describe('UniPC and DEIS: order of convergence on the exact Gaussian teacher', () => {
  for (const [order, ns] of [
    [1, [8, 16, 32, 64]],
    [2, [8, 16, 32, 64]],
  ] as const) {
    it(`unipc order ${order} (exact warm start): UniP alone has order ${order}, with UniC order ${order + 1}`, () => {
      const pred = measure([...ns], (n) => unipcWarmError(order, grid(n), false));
      const corr = measure([...ns], (n) => unipcWarmError(order, grid(n), true));
      assert.ok(Math.abs(pred - order) < 0.2, `UniP-${order}: measured order ${pred.toFixed(2)}`);
      assert.ok(Math.abs(corr - order - 1) < 0.2, `UniPC-${order}: measured order ${corr.toFixed(2)}`);
    });
  }

  it('unipc order 3 (exact warm start): UniPC-3 has order ≈ 4 (> 3.2 in float32), below UniP-3 in error', () => {
    const ns = [8, 16, 32];
    const corr = ns.map((n) => unipcWarmError(3, grid(n), true));
    const pred = ns.map((n) => unipcWarmError(3, grid(n), false));
    const p = convergenceOrder(ns, corr);
    assert.ok(p > 3.2 && p < 4.5, `UniPC-3: measured order ${p.toFixed(2)}`);
    corr.forEach((e, i) => {
      assert.ok(e < pred[i] / 2, `${ns[i]} steps: corrected ${e} not well below predicted ${pred[i]}`);
    });
  });

  it('full unipc without lower-order final steps converges at order ≥ 3', () => {
    // Warm-up UniPC-1 then UniPC-2 steps: order 3 in theory, ≈ 3.6 here (its warm-up lies at large t, where
    // x0 barely moves).
    const p = measure([8, 16, 32], (n) => endpointError(unipc, n, { lowerOrderFinal: false }));
    assert.ok(p > 2.5 && p < 4.5, `measured order ${p.toFixed(2)}`);
  });

  it("registry unipc (diff-sampler's lower_order_final: DDIM last step) converges at order ≈ 2", () => {
    // The uncorrected order-1 final step has local error O(t_end·h²), so order 2 asymptotically. (The error
    // changes sign near 12 steps and float32 rounding reaches ~1e-6 at 128: measured in between.)
    const p = measure([24, 32, 48, 64], (n) => endpointError(SOLVERS.unipc.solve, n));
    assert.ok(p > 1.7 && p < 2.5, `measured order ${p.toFixed(2)}, expected ≈ 2`);
  });

  for (const order of [1, 2, 3]) {
    it(`deis update of order ${order} (exact warm start, tAB in VP time) has order ${order}`, () => {
      const p = measure([8, 16, 32, 64], (n) => deisWarmError(order, grid(n)));
      assert.ok(Math.abs(p - order) < 0.35, `measured order ${p.toFixed(2)}, expected ${order}`);
    });
  }

  it('deis update of order 4 (exact warm start) has order > 3', () => {
    const p = measure([8, 16, 32], (n) => deisWarmError(4, grid(n)));
    assert.ok(p > 3 && p < 4.5, `measured order ${p.toFixed(2)}, expected ≈ 4`);
  });

  it('registry deis (tAB3) converges at order 2–3: its Euler first step dominates asymptotically', () => {
    const p = measure([8, 16, 32, 64], (n) => endpointError(SOLVERS.deis.solve, n));
    assert.ok(p > 1.8 && p < 3.2, `measured order ${p.toFixed(2)}`);
  });
});

describe('DEIS coefficients', () => {
  it('edm2t: τ(80) = 1, τ(0.002) = 1e-3, and vpSigma inverts vpTime', () => {
    assertClose([vpTime(80), vpTime(0.002)], [1, 1e-3], 1e-9);
    for (const s of [0.001, 0.006, 0.5, 3, 80, 200]) assertClose([vpSigma(vpTime(s))], [s], 1e-9);
  });

  it('rows sum to σ_{i+1} − σ_i, order-1 rows are Euler, and orders grow to maxOrder', () => {
    const ts = polynomialGrid(8, 0.002, 80);
    for (const maxOrder of [1, 2, 3, 4]) {
      const c = deisCoefficients(ts, maxOrder);
      assert.deepEqual(
        c.map((row) => row.length),
        ts.slice(1).map((_, i) => Math.min(i + 1, maxOrder)),
      );
      assert.deepEqual(c[0], [ts[1] - ts[0]]);
      c.forEach((row, i) => {
        assertClose([row.reduce((a, b) => a + b)], [ts[i + 1] - ts[i]], 1e-12, 0, `row ${i}`);
      });
    }
  });

  it('match a fine midpoint rule in τ and differ from the official 10,000-point Riemann sum by < 1e-3', () => {
    const ts = polynomialGrid(6, 0.002, 80);
    const taus = ts.map(vpTime);
    const c = deisCoefficients(ts, 3);
    const dSigma = (tau: number) => (vpSigma(tau * (1 + 1e-7)) - vpSigma(tau * (1 - 1e-7))) / (2e-7 * tau);
    // ∫ ℓ_j(τ) dσ/dτ dτ over the step by a rule with nodes τ_a + (k + shift)·(τ_b − τ_a)/m, k < m.
    const rule = (i: number, j: number, m: number, at: (k: number) => number) => {
      const p = c[i].length;
      const nodes = taus.slice(i - p + 1, i + 1).reverse();
      const step = (taus[i + 1] - taus[i]) / m;
      let s = 0;
      for (let k = 0; k < m; k++) {
        const tau = taus[i] + at(k) * (taus[i + 1] - taus[i]);
        let l = 1;
        for (let q = 0; q < p; q++) if (q !== j) l *= (tau - nodes[q]) / (nodes[j] - nodes[q]);
        s += l * dSigma(tau);
      }
      return s * step;
    };
    for (let i = 1; i < c.length; i++) {
      const scale = Math.abs(ts[i + 1] - ts[i]);
      c[i].forEach((v, j) => {
        const mid = rule(i, j, 200_000, (k) => (k + 0.5) / 200_000);
        const official = rule(i, j, 10_000, (k) => k / 9_999); // linspace(τ_i, τ_{i+1}, N), Δ = (b − a)/N
        assert.ok(Math.abs(v - mid) < 1e-9 * scale, `C[${i}][${j}] = ${v}, midpoint ${mid}`);
        assert.ok(Math.abs(v - official) < 1e-3 * scale, `C[${i}][${j}] = ${v}, official ${official}`);
      });
    }
  });

  it('deis rejects maxOrder outside 1..4, unipc order outside 1..3 and unknown variants', () => {
    const x = tf.ones([2, 3]);
    const ts = polynomialGrid(6, 0.006, 80);
    for (const maxOrder of [0, 5, 2.5])
      assert.throws(() => deis(D, x, ts, { maxOrder }), /deis: maxOrder must be an integer in 1..4/);
    for (const order of [0, 4, 1.5])
      assert.throws(() => unipc(D, x, ts, { order }), /unipc: order must be an integer in 1..3/);
    assert.throws(
      () => unipc(D, x, ts, { variant: 'bh3' as 'bh1' }),
      /unipc: variant must be 'bh1' or 'bh2'/,
    );
    x.dispose();
  });
});

describe('UniPC coefficients', () => {
  it('order 1: corrector ½; order 2: predictor ½; orders 2–3: the corrector solves R·ρ = b (bh1 and bh2)', () => {
    const t = 2;
    const tNext = 1;
    const past = [4, 9];
    const h = Math.log(t / tNext);
    // b_k = k!·g_k/B with g_1 = (e^{−h} − 1)/(−h) − 1, g_{k+1} = g_k/(−h) − 1/(k+1)!
    const g1 = Math.expm1(-h) / -h - 1;
    const g2 = g1 / -h - 1 / 2;
    const g3 = g2 / -h - 1 / 6;
    const rs = past.map((s) => Math.log(t / s) / h);
    for (const variant of ['bh1', 'bh2'] as const) {
      const B = variant === 'bh1' ? -h : Math.expm1(-h);
      const b = [g1 / B, (2 * g2) / B, (6 * g3) / B];
      const c1 = unipcCoefficients(t, tNext, past, 1, variant);
      assert.deepEqual([c1.B, c1.r, c1.predictor, c1.corrector], [B, [], [], [0.5]]);
      const c2 = unipcCoefficients(t, tNext, past, 2, variant);
      assert.deepEqual(c2.predictor, [0.5]);
      assertClose(c2.r, rs.slice(0, 1), 1e-12);
      for (const c of [c2, unipcCoefficients(t, tNext, past, 3, variant)]) {
        const nodes = [...c.r, 1];
        const rows = nodes.map((_, i) => nodes.reduce((acc, r, k) => acc + r ** i * c.corrector[k], 0));
        assertClose(rows, b.slice(0, nodes.length), 1e-12, 1e-14, `${variant} order ${nodes.length}`);
      }
      const c3 = unipcCoefficients(t, tNext, past, 3, variant);
      assertClose(
        [c3.predictor[0] + c3.predictor[1], rs[0] * c3.predictor[0] + rs[1] * c3.predictor[1]],
        b.slice(0, 2),
        1e-12,
        1e-14,
        `${variant} order-3 predictor`,
      );
    }
  });
});

describe('UniPC and DEIS: NFE, keep, thresholding', () => {
  const variants: [string, Solver<object>, object][] = [
    ['unipc (registry)', SOLVERS.unipc.solve, {}],
    ['unipc order 1', unipc, { order: 1 }],
    ['unipc order 2', unipc, { order: 2 }],
    ['unipc no lower-order final', unipc, { lowerOrderFinal: false }],
    ['unipc bh1, predictor only', unipc, { variant: 'bh1', corrector: false }],
    ['deis (registry)', SOLVERS.deis.solve, {}],
    ['deis tAB4', deis, { maxOrder: 4 }],
  ];

  it('spend exactly steps denoiser calls, steps − 1 with AFS, every variant, every grid length', () => {
    for (const [name, solve, opts] of variants) {
      for (let nfe = 1; nfe <= 7; nfe++) {
        for (const afs of [false, true]) {
          const steps = stepsForNfe(SOLVERS.unipc, nfe, afs);
          assert.equal(stepsForNfe(SOLVERS.deis, nfe, afs), steps);
          const ts = polynomialGrid(steps + 1, 0.006, 80);
          const counted = countCalls(D);
          const x = tf.fill([3, 2], 40);
          const r = solve(afs ? withAfs(counted.denoise, ts[0]) : counted.denoise, x, ts, opts);
          assert.equal(counted.calls(), nfe, `${name}, NFE ${nfe}, AFS ${afs}`);
          assert.ok(Array.from(r.x.dataSync()).every(Number.isFinite));
          tf.dispose([x, r.x]);
        }
      }
    }
  });

  it('solveToy reports the requested NFE for unipc and deis, with and without AFS', () => {
    for (const solver of ['unipc', 'deis']) {
      for (const [nfe, afs] of [
        [1, true],
        [2, false],
        [3, true],
        [5, false],
      ] as const) {
        const r = solveToy(TOY_MIXTURES.gmm2d(), toyNoise(4, 2, 80, 3), solver, nfe, afs, defaultSchedule);
        assert.equal(r.nfe, nfe, `${solver} NFE ${nfe} AFS ${afs}`);
        assert.equal(r.ts.length, nfe + (afs ? 1 : 0) + 1);
      }
    }
  });

  it('keep returns the states at the requested indices (those onStep sees), the start included', () => {
    const ts = polynomialGrid(7, 0.006, 80);
    for (const name of ['unipc', 'deis']) {
      const x = tf.tensor2d([
        [30, -50],
        [5, 80],
      ]);
      const seen: number[][][] = [];
      const all = SOLVERS[name].solve(D, x, ts, {
        keep: 'all',
        onStep: (s) => seen.push(s.x.arraySync() as number[][]),
      });
      const some = SOLVERS[name].solve(D, x, ts, { keep: [5, 0, 2] });
      assert.deepEqual(some.indices, [0, 2, 5]);
      assert.deepEqual(all.indices, [0, 1, 2, 3, 4, 5, 6]);
      assert.deepEqual(some.trajectory[0].arraySync(), x.arraySync());
      assert.deepEqual(some.trajectory[1].arraySync(), seen[1]);
      assert.deepEqual(some.trajectory[2].arraySync(), seen[4]);
      all.trajectory.slice(1).forEach((s, i) => {
        assert.deepEqual(s.arraySync(), seen[i], `${name} #${i + 1}`);
      });
      assert.deepEqual(all.x.arraySync(), seen[5]);
      tf.dispose([x, all.x, some.x, ...all.trajectory, ...some.trajectory]);
    }
  });

  it('unipc thresholds only when asked: threshold: true equals thresholding the denoiser by hand', () => {
    assert.equal(SOLVERS.unipc.thresholds, true);
    assert.equal(SOLVERS.deis.thresholds, false);
    const ts = polynomialGrid(6, 0.006, 80);
    const wide = gaussianDenoiser({ mean: 1.5, std: 2 }); // x0 predictions well outside [−1, 1]
    const byHand: Denoiser = (xt, t) => tf.tidy(() => dynamicThreshold(wide(xt, t)));
    const x = tf.tensor2d([
      [40, -30, 10],
      [-80, 5, 60],
    ]);
    const run = (d: Denoiser, threshold?: boolean) => {
      const r = SOLVERS.unipc.solve(d, x, ts, { threshold });
      const v = Array.from(r.x.dataSync());
      r.x.dispose();
      return v;
    };
    const plain = run(wide);
    assertClose(run(wide, true), run(byHand), 1e-6, 1e-6, 'thresholded');
    assert.deepEqual(run(wide, false), plain, 'threshold: false must not clip');
    const gap = Math.max(...run(wide, true).map((v, i) => Math.abs(v - plain[i])));
    assert.ok(gap > 0.1, `thresholding had no effect (max difference ${gap})`);
    // With x0 predictions inside [−1, 1] (s = 1) thresholding changes nothing.
    assert.deepEqual(run(D, true), run(D));
    x.dispose();
    assert.throws(
      () =>
        solveToy(TOY_MIXTURES.gmm2d(), toyNoise(2, 2, 80, 0), 'deis', 3, false, defaultSchedule, {
          threshold: true,
        }),
      /deis has no dynamic thresholding/,
    );
  });
});

describe('UniPC and DEIS on the exact 2-D mixture teacher', () => {
  it('at NFE 5 both land closer to the exact ODE endpoints than Euler, with and without AFS', () => {
    const gmm = TOY_MIXTURES.gmm2d();
    const xT = toyNoise(64, 2, defaultSchedule.tMax, 7);
    const ref = exactEndpoints(gmm, xT, defaultSchedule);
    for (const afs of [false, true]) {
      const err = (solver: string) =>
        meanDistance(solveToy(gmm, xT, solver, 5, afs, defaultSchedule).trajectory.at(-1) as number[][], ref);
      const e = { euler: err('euler'), unipc: err('unipc'), deis: err('deis') };
      // measured (64 samples, seed 7): euler 0.187/0.178, unipc 0.093/0.076, deis 0.077/0.067 (no AFS/AFS)
      assert.ok(e.unipc < 0.7 * e.euler, `AFS ${afs}: unipc ${e.unipc} vs euler ${e.euler}`);
      assert.ok(e.deis < 0.7 * e.euler, `AFS ${afs}: deis ${e.deis} vs euler ${e.euler}`);
    }
  });
});
