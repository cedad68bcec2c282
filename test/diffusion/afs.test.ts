import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../../lib/diffusion/afs';
import { countCalls, direction } from '../../lib/diffusion/denoiser';
import { polynomialGrid } from '../../lib/diffusion/schedules';
import { feasibleNfes, SOLVERS, stepsForNfe } from '../../lib/diffusion/solvers/registry';
import { gaussianDenoiser } from '../../lib/models/gaussian';
import { assertClose } from '../helpers';

const g = { mean: 0.3, std: 0.5 };
const values = (x: tf.Tensor) => Array.from(x.dataSync());

describe('analytical first step (AFS) and NFE accounting', () => {
  it('withAfs at t = 80 returns x·(1 − 80/√6401), i.e. direction d = x/√6401 = 0.0124990·x, without calling D', () => {
    const counted = countCalls(gaussianDenoiser(g));
    const D = withAfs(counted.denoise, 80);
    const x = tf.tensor2d([
      [80, -40],
      [1, 0],
    ]);
    const out = D(x, 80);
    assert.equal(counted.calls(), 0, 'AFS must not call the wrapped denoiser');
    assert.deepEqual(out.shape, x.shape);
    const c = 1 - 80 / Math.sqrt(6401);
    assertClose(values(out), [80 * c, -40 * c, c, 0], 1e-6, 0, 'D_AFS');
    // The ODE direction of the analytic step is x/sqrt(1 + t²): the spec's coefficient 0.0124990.
    const d = direction(D, x, 80);
    assertClose(
      values(d),
      [80, -40, 1, 0].map((v) => v * 0.012499),
      1e-5,
      0,
      'd_AFS',
    );
    tf.dispose([x, out, d]);
  });

  it('withAfs calls through to the wrapped denoiser at every other t (same value, one call each)', () => {
    const base = gaussianDenoiser(g);
    const counted = countCalls(base);
    const D = withAfs(counted.denoise, 80);
    const x = tf.tensor2d([
      [3, -1],
      [0.5, 2],
    ]);
    const ts = [79.999, 40, 1, 0.006, 80.5];
    ts.forEach((t, i) => {
      const a = D(x, t);
      const b = base(x, t);
      assert.equal(counted.calls(), i + 1, `calls after t=${t}`);
      assert.deepEqual(values(a), values(b), `D(x, ${t})`);
      tf.dispose([a, b]);
    });
    // AFS is keyed on its own tFirst, not on 80.
    const other = withAfs(counted.denoise, 2.5);
    const y = other(x, 2.5);
    assert.equal(counted.calls(), ts.length, 'AFS at tFirst = 2.5 is analytic too');
    assertClose(
      values(y),
      values(x).map((v) => v * (1 - 2.5 / Math.sqrt(1 + 2.5 * 2.5))),
      1e-6,
    );
    tf.dispose([x, y]);
  });

  for (const entry of Object.values(SOLVERS)) {
    it(`${entry.name}: denoiser calls equal the requested NFE 1..6 wherever feasible, with and without AFS`, () => {
      let checked = 0;
      for (const afs of [false, true]) {
        const feasible = feasibleNfes(entry, afs, 1, 6);
        for (let nfe = 1; nfe <= 6; nfe++) {
          if (!feasible.includes(nfe)) {
            // feasibleNfes and stepsForNfe agree on what is impossible.
            assert.throws(() => stepsForNfe(entry, nfe, afs), RangeError, `nfe ${nfe}, afs ${afs}`);
            continue;
          }
          const steps = stepsForNfe(entry, nfe, afs);
          assert.equal(steps * entry.evalsPerStep - (afs ? 1 : 0), nfe);
          const ts = polynomialGrid(steps + 1, 0.006, 80);
          const counted = countCalls(gaussianDenoiser(g));
          const D = afs ? withAfs(counted.denoise, ts[0]) : counted.denoise;
          const x = tf.fill([3, 2], 80);
          const r = entry.solve(D, x, ts);
          assert.equal(counted.calls(), nfe, `nfe ${nfe}, afs ${afs}: ${counted.calls()} calls`);
          assert.ok(values(r.x).every(Number.isFinite), `nfe ${nfe}, afs ${afs}: non-finite result`);
          tf.dispose([x, r.x]);
          checked++;
        }
      }
      // 1-call solvers: all 6 NFEs both ways; 2-call solvers: 3 each way.
      assert.equal(checked, entry.evalsPerStep === 1 ? 12 : 6);
    });
  }

  it('stepsForNfe rejects NFE < 1 and non-integer NFE', () => {
    for (const entry of Object.values(SOLVERS)) {
      for (const nfe of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        for (const afs of [false, true]) {
          assert.throws(
            () => stepsForNfe(entry, nfe, afs),
            new RegExp(`NFE must be an integer ≥ 1, got ${nfe}`),
            `${entry.name}, nfe ${nfe}, afs ${afs}`,
          );
        }
      }
    }
  });

  it('stepsForNfe rejects parity mismatches for the 2-call solvers (heun, dpm2), naming the parity', () => {
    for (const name of ['heun', 'dpm2']) {
      const entry = SOLVERS[name];
      assert.equal(entry.evalsPerStep, 2);
      for (const nfe of [1, 3, 5]) {
        assert.throws(
          () => stepsForNfe(entry, nfe, false),
          new RegExp(`${name} makes 2 calls per step: NFE must be even without AFS, got ${nfe}`),
        );
        assert.equal(stepsForNfe(entry, nfe, true), (nfe + 1) / 2);
      }
      for (const nfe of [2, 4, 6]) {
        assert.throws(
          () => stepsForNfe(entry, nfe, true),
          new RegExp(`${name} makes 2 calls per step: NFE must be odd with AFS, got ${nfe}`),
        );
        assert.equal(stepsForNfe(entry, nfe, false), nfe / 2);
      }
      assert.deepEqual(feasibleNfes(entry, false, 1, 6), [2, 4, 6]);
      assert.deepEqual(feasibleNfes(entry, true, 1, 6), [1, 3, 5]);
    }
  });
});
