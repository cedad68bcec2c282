import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../../lib/diffusion/denoiser';
import { gaussianDenoiser, gaussianOdeSolution } from '../../lib/models/gaussian';
import {
  checkGmm,
  type Gmm,
  gmmDenoise64,
  gmmDenoiser,
  gmmOdeSolution,
  sampleGmm,
} from '../../lib/models/gmm';
import { gridMixture, ringMixture } from '../../lib/models/toys';
import { makeRng } from '../../lib/util/rng';
import { assertClose } from '../helpers';

/** Runs a denoiser on plain points and reads the answer back (the tensors are disposed). */
function denoisePoints(D: Denoiser, pts: number[][], t: number): number[][] {
  const x = tf.tensor2d(pts);
  const y = D(x, t);
  const out = y.arraySync() as number[][];
  tf.dispose([x, y]);
  return out;
}

/** A random K-component isotropic mixture in `dim` dimensions with unequal weights and widths. */
function randomMixture(k: number, dim: number, seed: number): Gmm {
  const rng = makeRng(seed);
  return {
    weights: Array.from({ length: k }, () => 0.2 + rng.uniform()),
    means: Array.from({ length: k }, () => Array.from({ length: dim }, () => 1.5 * rng.normal())),
    stds: Array.from({ length: k }, () => 0.1 + 0.6 * rng.uniform()),
  };
}

describe('GMM teacher (exact mixture denoiser)', () => {
  it('gmmDenoiser equals a Monte Carlo posterior mean E[x0 | x_t = x] within 5 standard errors (grid, t ∈ {0.3, 1, 3})', () => {
    const g = gridMixture();
    // Prior samples x0 ~ p; the posterior given x_t = x0 + t·ε is p(x0)·N(x; x0, t²I), so with
    // self-normalised importance weights w ∝ exp(−|x − x0|²/(2t²)) the posterior mean is Σw·x0/Σw.
    const M = 200_000;
    const prior = sampleGmm(g, M, makeRng(12345));
    const px = Float64Array.from(prior, (p) => p[0]);
    const py = Float64Array.from(prior, (p) => p[1]);
    // Points between modes and off the grid, so that D(x) is neither ≈ x nor ≈ the prior mean.
    const queries = [
      [0.35, -0.2],
      [1.1, 0.9],
      [-0.6, 0.3],
      [0.15, 0.55],
    ];
    const D = gmmDenoiser(g);
    const w = new Float64Array(M);
    for (const t of [0.3, 1, 3]) {
      const got = denoisePoints(D, queries, t);
      queries.forEach((q, qi) => {
        let sw = 0;
        let sw2 = 0;
        let sx = 0;
        let sy = 0;
        for (let i = 0; i < M; i++) {
          const wi = Math.exp(-((q[0] - px[i]) ** 2 + (q[1] - py[i]) ** 2) / (2 * t * t));
          w[i] = wi;
          sw += wi;
          sw2 += wi * wi;
          sx += wi * px[i];
          sy += wi * py[i];
        }
        const mc = [sx / sw, sy / sw];
        // Delta-method standard error of a self-normalised estimate: sqrt(Σw²(x0 − μ̂)²)/Σw.
        let vx = 0;
        let vy = 0;
        for (let i = 0; i < M; i++) {
          vx += w[i] * w[i] * (px[i] - mc[0]) ** 2;
          vy += w[i] * w[i] * (py[i] - mc[1]) ** 2;
        }
        const se = [Math.sqrt(vx) / sw, Math.sqrt(vy) / sw];
        const ess = (sw * sw) / sw2;
        const where = `x=[${q}], t=${t}`;
        assert.ok(ess > 10_000, `${where}: effective sample size ${ess.toFixed(0)} too small`);
        // The check must be sharp: 5 SE stays far below how much D moves the point.
        const tol = se.map((s) => 5 * s);
        assert.ok(Math.max(...tol) < 0.01, `${where}: MC tolerance ${tol} is not meaningful`);
        assert.ok(
          Math.hypot(got[qi][0] - q[0], got[qi][1] - q[1]) > 10 * Math.max(...tol),
          `${where}: D(x) ≈ x, the comparison would be vacuous`,
        );
        for (const [j, v] of got[qi].entries()) {
          assert.ok(
            Math.abs(v - mc[j]) <= tol[j],
            `${where}, coord ${j}: D = ${v}, MC = ${mc[j]} ± ${se[j].toExponential(2)} (ESS ${ess.toFixed(0)})`,
          );
        }
      });
    }
  });

  it('gmmDenoiser (float32) matches gmmDenoise64 to 1e-5 on ring, grid and a 5-D mixture, t from 0.01 to 80', () => {
    const rng = makeRng(7);
    for (const [name, g] of [
      ['ring', ringMixture()],
      ['grid', gridMixture()],
      ['5-D', randomMixture(4, 5, 3)],
    ] as const) {
      const dim = g.means[0].length;
      const D = gmmDenoiser(g);
      for (const t of [0.01, 0.3, 1, 3, 80]) {
        // Noisy data points plus uniform points in a box (these sit between modes, where r_k compete).
        const noisy = sampleGmm(g, 32, rng).map((p) => p.map((v) => v + t * rng.normal()));
        const box = Array.from({ length: 32 }, () =>
          Array.from({ length: dim }, () => 4 * rng.uniform() - 2),
        );
        const pts = [...noisy, ...box];
        const got = denoisePoints(D, pts, t);
        for (const [i, p] of pts.entries()) {
          assertClose(got[i], gmmDenoise64(g, p, t), 1e-5, 1e-5, `${name} t=${t} D(x_${i})`);
        }
      }
    }
  });

  it('a one-component mixture is the Gaussian teacher: same denoiser (float32) and ODE solution (RK4 vs closed form, 1e-9)', () => {
    const gauss = { mean: 0.3, std: 0.5 };
    const g: Gmm = { weights: [2], means: [[0.3, 0.3, 0.3]], stds: [0.5] };
    const pts = [
      [2, -1, 0.3],
      [-5, 40, 0.01],
      [0, 0, 0],
    ];
    const x = tf.tensor2d(pts);
    const Dg = gmmDenoiser(g);
    const Dn = gaussianDenoiser(gauss);
    for (const t of [0.006, 0.5, 2, 80]) {
      const a = Dg(x, t);
      const b = Dn(x, t);
      assertClose(Array.from(a.dataSync()), Array.from(b.dataSync()), 1e-6, 1e-6, `D at t=${t}`);
      tf.dispose([a, b]);
    }
    x.dispose();

    const tTo = [10, 1, 0.2, 0.006];
    const ref = gmmOdeSolution(g, [80, -3, 0.3], 80, tTo);
    for (const [i, t] of tTo.entries()) {
      const exact = [80, -3, 0.3].map((xT) => gaussianOdeSolution(gauss, xT, 80, t));
      assertClose(ref[i], exact, 1e-9, 1e-9, `x(t=${t})`);
    }
  });

  it('gmmOdeSolution is reversible: integrating back up recovers the start (1e-8), a sanity check of RK4 on a real mixture', () => {
    const g = ringMixture();
    const start = [0.4, -1.7];
    const [down] = gmmOdeSolution(g, start, 5, [0.05]);
    const [up] = gmmOdeSolution(g, down, 0.05, [5]);
    assertClose(up, start, 1e-8, 1e-8, 'round trip');
  });

  it('wrong input shape: the denoiser names the expected [batch, dim]', () => {
    const D = gmmDenoiser(ringMixture());
    for (const shape of [[4, 3], [2], [2, 2, 1], [3, 1]]) {
      const x = tf.zeros(shape);
      assert.throws(
        () => D(x, 1),
        (e: Error) => e instanceof RangeError && /expects \[batch, 2\]/.test(e.message),
        `shape [${shape}]`,
      );
      x.dispose();
    }
  });

  it('malformed mixtures are rejected by checkGmm (and so by gmmDenoiser and sampleGmm)', () => {
    const ok = (): Gmm => ({ weights: [0.5, 0.5], means: [[0], [1]], stds: [0.1, 0.2] });
    assert.equal(checkGmm(ok()), 1);
    const cases: [string, Gmm, RegExp][] = [
      ['no components', { weights: [], means: [], stds: [] }, /as many weights, means and stds/],
      [
        'one weight too many',
        { ...ok(), weights: [0.3, 0.3, 0.4] },
        /as many weights, means and stds \(got 3, 2, 2\)/,
      ],
      ['a std missing', { ...ok(), stds: [0.1] }, /as many weights, means and stds/],
      ['ragged means', { ...ok(), means: [[0], [1, 2]] }, /same dimension/],
      ['zero std', { ...ok(), stds: [0.1, 0] }, /stds must be finite and > 0/],
      ['negative std', { ...ok(), stds: [-0.1, 0.2] }, /stds must be finite and > 0/],
      ['zero weight', { ...ok(), weights: [0, 1] }, /weights and stds must be finite and > 0/],
      ['negative weight', { ...ok(), weights: [1.5, -0.5] }, /weights and stds must be finite and > 0/],
      ['NaN weight', { ...ok(), weights: [Number.NaN, 1] }, /weights and stds must be finite and > 0/],
      ['infinite std', { ...ok(), stds: [0.1, Number.POSITIVE_INFINITY] }, /finite and > 0/],
      [
        'NaN mean',
        {
          ...ok(),
          means: [
            [0, Number.NaN],
            [1, 1],
          ],
        },
        /means must be finite/,
      ],
      ['empty means', { ...ok(), means: [[], []] }, /at least one coordinate/],
    ];
    for (const [what, g, re] of cases) {
      assert.throws(() => checkGmm(g), re, what);
      assert.throws(() => gmmDenoiser(g), re, `gmmDenoiser: ${what}`);
      assert.throws(() => sampleGmm(g, 3, makeRng(0)), re, `sampleGmm: ${what}`);
    }
  });
});
