import { strict as assert } from 'node:assert';
import {
  logSnrGrid,
  polynomialGrid,
  SCHEDULE_KINDS,
  type ScheduleKind,
  teacherGrid,
  timeGrid,
  timeUniformGrid,
} from '../../lib/diffusion/schedules';
import { assertClose } from '../helpers';

describe('time schedules', () => {
  it('polynomialGrid reproduces the spec table (t_min 0.006, t_max 80, ρ 7)', () => {
    assertClose(polynomialGrid(3, 0.006, 80), [80, 3.1071, 0.006], 2e-5);
    assertClose(polynomialGrid(4, 0.006, 80), [80, 10.9292975, 0.669885656, 0.006], 1e-7);
    assertClose(polynomialGrid(5, 0.006, 80), [80, 19.0034, 3.1071, 0.2683, 0.006], 1e-4, 5e-5);
    assertClose(
      polynomialGrid(7, 0.006, 80),
      [80, 31.7298, 10.9293, 3.1071, 0.6699, 0.0936, 0.006],
      1e-4,
      5e-5,
    );
  });

  it('teacherGrid with K=4 at N=4 is the spec 13-point grid, student times at indices 0,4,8,12', () => {
    const g = teacherGrid(4, 4, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 });
    assertClose(
      g.ts,
      [80, 51.157, 31.73, 19.003, 10.929, 5.994, 3.107, 1.5045, 0.6699, 0.2683, 0.0936, 0.0271, 0.006],
      2e-4,
    );
    assert.deepEqual(g.studentIndices, [0, 4, 8, 12]);
    assert.deepEqual(
      g.studentIndices.map((i) => g.ts[i]),
      g.studentTs,
    );
  });

  for (const kind of SCHEDULE_KINDS) {
    it(`${kind}: every K-th point of the K·(N−1)+1 grid is the N-point grid (to 1e-12)`, () => {
      const s = { kind, rho: 7, tMin: 0.002, tMax: 80 };
      for (const [n, k] of [
        [3, 2],
        [4, 4],
        [6, 3],
      ]) {
        const fine = timeGrid(k * (n - 1) + 1, s);
        assertClose(
          timeGrid(n, s),
          fine.filter((_, i) => i % k === 0),
          1e-12,
        );
      }
    });
  }

  it('logSnrGrid has a constant ratio between neighbours', () => {
    const g = logSnrGrid(6, 0.01, 100);
    const ratios = g.slice(1).map((t, i) => t / g[i]);
    assertClose(ratios, Array(5).fill(10 ** (-4 / 5)), 1e-12);
  });

  it("timeUniformGrid recovers EDM's VP schedule (β_d = 19.9, β_min = 0.1) from its σ range", () => {
    // EDM's VP SDE: σ(u) = sqrt(exp(½β_d u² + β_min u) − 1), u from 1 down to ε_s = 1e-3, uniform for ρ = 1.
    const sigma = (u: number) => Math.sqrt(Math.expm1(0.5 * 19.9 * u * u + 0.1 * u));
    const n = 9;
    const us = Array.from({ length: n }, (_, i) => 1 + (i / (n - 1)) * (1e-3 - 1));
    assertClose(timeUniformGrid(n, sigma(1e-3), sigma(1), 1), us.map(sigma), 1e-9);
    // with ρ = 2 the VP times are spaced uniformly in sqrt(u)
    const us2 = Array.from({ length: n }, (_, i) => (1 + (i / (n - 1)) * (Math.sqrt(1e-3) - 1)) ** 2);
    assertClose(timeUniformGrid(n, sigma(1e-3), sigma(1), 2), us2.map(sigma), 1e-9);
  });

  it('bad settings fail with a clear error', () => {
    assert.throws(() => polynomialGrid(1, 0.006, 80), /n ≥ 2/);
    assert.throws(() => polynomialGrid(4, 0.006, 80, 0), /ρ > 0/);
    assert.throws(() => polynomialGrid(4, 80, 0.006), /tMin < tMax/);
    assert.throws(() => logSnrGrid(4, 0, 1), /tMin < tMax/);
    assert.throws(
      () => teacherGrid(4, 0, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 }),
      /K must be ≥ 1/,
    );
    assert.throws(
      () => timeGrid(4, { kind: 'cosine' as ScheduleKind, rho: 7, tMin: 0.006, tMax: 80 }),
      /unknown schedule kind 'cosine'/,
    );
  });
});
