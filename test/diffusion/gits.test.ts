import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { gitsCostSums, gitsDp, gitsSchedule, teacherTrajectory } from '../../lib/diffusion/gits';
import { readScheduleFile, scheduleForSampling, writeScheduleFile } from '../../lib/diffusion/scheduleFile';
import { defaultSchedule, explicitSchedule, polynomialGrid, timeGrid } from '../../lib/diffusion/schedules';
import { solverByName, stepsForNfe } from '../../lib/diffusion/solvers/registry';
import { makeGitsSchedule, toyTeacherSha256 } from '../../lib/experiments/gitsSearch';
import { sampleDefaults, sampleToy } from '../../lib/experiments/sampleToy';
import { exactEndpoints, meanDistance, solveToy, toyNoise } from '../../lib/experiments/toySolve';
import { gmmDenoiser } from '../../lib/models/gmm';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { makeRng } from '../../lib/util/rng';

const gmm = TOY_MIXTURES.gmm2d();
const teacher = gmmDenoiser(gmm);
const { tMin, tMax } = defaultSchedule;

/** Every increasing path 0 → N−1 of `steps` jumps, by enumeration, with gits-main's weights coeff^m. */
function bruteForce(cost: number[][], steps: number, coeff: number) {
  const n = cost.length;
  let best = { value: Number.POSITIVE_INFINITY, indices: [] as number[] };
  const walk = (path: number[]) => {
    if (path.length === steps) {
      const full = [...path, n - 1];
      const value = full.slice(1).reduce((acc, j, m) => acc + coeff ** m * cost[full[m]][j], 0);
      if (value < best.value) best = { value, indices: full };
      return;
    }
    for (let j = path[path.length - 1] + 1; j < n - 1; j++) walk([...path, j]);
  };
  walk([0]);
  return best;
}

function randomCost(n: number, seed: number): number[][] {
  const rng = makeRng(seed);
  // signed costs, like the 'dev' metric's
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (j > i ? rng.normal() : Number.NaN)),
  );
}

describe('GITS', () => {
  it('the DP returns the optimum: equal to brute force over every path (random and teacher costs)', () => {
    for (const seed of [1, 2, 3, 4])
      for (const steps of [1, 2, 3, 4]) {
        const cost = randomCost(9, seed);
        const dp = gitsDp(cost, steps, 1.15);
        const bf = bruteForce(cost, steps, 1.15);
        assert.deepEqual(dp.indices, bf.indices, `seed ${seed}, ${steps} steps`);
        assert.ok(Math.abs(dp.value - bf.value) < 1e-12);
      }
    // a real cost matrix: the toy teacher on a 9-point grid, 3 steps, each metric
    for (const metric of ['dev', 'l1', 'l2'] as const) {
      const noise = tf.tensor2d(toyNoise(64, 2, tMax, 0));
      const g = gitsSchedule(teacher, noise, { steps: 3, teacherPoints: 9, metric, tMin, tMax });
      noise.dispose();
      const bf = bruteForce(g.costMatrix, 3, 1.15);
      assert.deepEqual(g.indices, bf.indices, metric);
      assert.ok(Math.abs(g.cost - bf.value) <= 1e-9 * Math.abs(bf.value), metric);
    }
  });

  it('the DP backtracks by its argmin: ties and equal paths still give a valid path', () => {
    const zeros = Array.from({ length: 7 }, () => Array(7).fill(0));
    for (const steps of [1, 3, 6]) {
      const { indices } = gitsDp(zeros, steps, 1.15);
      assert.equal(indices.length, steps + 1);
      assert.equal(indices[0], 0);
      assert.equal(indices[steps], 6);
      for (let k = 1; k < indices.length; k++) assert.ok(indices[k] > indices[k - 1]);
    }
    assert.throws(() => gitsDp(zeros, 7, 1.15), /7 steps need ≥ 8 points/);
  });

  it('the cost matrix is gits-main’s: one entry of each metric recomputed per sample in plain JS', () => {
    const ts = polynomialGrid(9, tMin, tMax, 7);
    const xT = tf.tensor2d(toyNoise(16, 2, tMax, 3));
    const traj = teacherTrajectory(teacher, xT, ts, 'ipndm');
    assert.equal(traj.calls, 8); // iPNDM: one call per step, the derivatives captured, none recomputed
    const X = traj.states.map((s) => s.arraySync() as number[][]);
    const D = traj.dirs.map((s) => s.arraySync() as number[][]);
    const sums = {
      dev: gitsCostSums(traj.states, traj.dirs, ts, 'dev'),
      l1: gitsCostSums(traj.states, traj.dirs, ts, 'l1'),
      l2: gitsCostSums(traj.states, traj.dirs, ts, 'l2'),
    };
    tf.dispose([xT, ...traj.states, ...traj.dirs]);
    // the derivative at x_i is (x_i − D(x_i, σ_i))/σ_i
    const d2 = tf.tidy(() => {
      const x = tf.tensor2d(X[2]);
      return x.sub(teacher(x, ts[2])).div(ts[2]).arraySync() as number[][];
    });
    for (const [b, row] of d2.entries())
      for (const [k, v] of row.entries()) assert.ok(Math.abs(v - D[2][b][k]) < 1e-5);
    // perpendicular distance of p from the line through a (start) and c (end)
    const dev = (p: number[], a: number[], c: number[]) => {
      const u = [c[0] - a[0], c[1] - a[1]];
      const nu = Math.hypot(u[0], u[1]);
      const ac = [c[0] - p[0], c[1] - p[1]];
      return Math.abs(ac[0] * u[1] - ac[1] * u[0]) / nu;
    };
    for (const [i, j] of [
      [0, 8],
      [2, 5],
      [6, 7],
    ]) {
      let dv = 0;
      let l1 = 0;
      let l2 = 0;
      X[0].forEach((_, b) => {
        const next = X[i][b].map((v, k) => v + (ts[j] - ts[i]) * D[i][b][k]);
        const own = j === 8 ? 0 : dev(X[j][b], X[0][b], X[8][b]);
        dv += dev(next, X[0][b], X[8][b]) - own;
        l1 += Math.abs(next[0] - X[j][b][0]) + Math.abs(next[1] - X[j][b][1]);
        l2 += Math.hypot(next[0] - X[j][b][0], next[1] - X[j][b][1]);
      });
      const tol = (x: number) => 1e-4 * (1 + Math.abs(x));
      assert.ok(Math.abs(sums.dev[i][j] - dv) < tol(dv), `dev[${i}][${j}] ${sums.dev[i][j]} vs ${dv}`);
      assert.ok(Math.abs(sums.l1[i][j] - l1) < tol(l1), `l1[${i}][${j}] ${sums.l1[i][j]} vs ${l1}`);
      assert.ok(Math.abs(sums.l2[i][j] - l2) < tol(l2), `l2[${i}][${j}] ${sums.l2[i][j]} vs ${l2}`);
    }
  });

  it('the schedule starts at tMax, ends at tMin, strictly decreases on the teacher grid; NFE is counted', () => {
    const noise = tf.tensor2d(toyNoise(32, 2, tMax, 0));
    const before = tf.memory().numTensors;
    for (const metric of ['dev', 'l2'] as const)
      for (const steps of [1, 4, 7]) {
        const g = gitsSchedule(teacher, noise, { steps, metric, tMin, tMax, batch: 10 });
        assert.equal(g.sigmas.length, steps + 1);
        assert.equal(g.sigmas[0], tMax);
        assert.equal(g.sigmas[steps], tMin);
        for (let k = 1; k <= steps; k++) assert.ok(g.sigmas[k] < g.sigmas[k - 1]);
        assert.deepEqual(
          g.sigmas,
          g.indices.map((i) => g.teacherGrid[i]),
        );
        assert.equal(g.teacherGrid.length, 61);
        assert.equal(g.teacherNfe, 60);
        assert.equal(g.teacherCalls, 32 * 60);
      }
    // a 2-call teacher: both calls of each step are counted, and d_i comes from its first call
    const heun = gitsSchedule(teacher, noise, {
      steps: 3,
      teacherPoints: 9,
      teacherSolver: 'heun',
      tMin,
      tMax,
    });
    assert.equal(heun.teacherNfe, 2 * 8);
    const afs = gitsSchedule(teacher, noise, { steps: 4, tMin, tMax, afs: { solver: 'ipndm' }, batch: 10 });
    assert.equal(afs.sigmas.length, 5);
    assert.equal(tf.memory().numTensors, before, 'no tensor is left behind');
    noise.dispose();
  });

  it('batches of the warm-up give the same cost matrix as one solve', () => {
    const noise = tf.tensor2d(toyNoise(30, 2, tMax, 5));
    const one = gitsSchedule(teacher, noise, { steps: 4, teacherPoints: 13, tMin, tMax });
    const many = gitsSchedule(teacher, noise, { steps: 4, teacherPoints: 13, tMin, tMax, batch: 7 });
    noise.dispose();
    for (const [i, row] of one.costMatrix.entries())
      for (let j = i + 1; j < row.length; j++)
        assert.ok(Math.abs(row[j] - many.costMatrix[i][j]) < 1e-5 * (1 + Math.abs(row[j])));
    assert.deepEqual(one.indices, many.indices);
  });

  it('beats the polynomial ρ=7 schedule on held-out noise (2-D mixture, exact endpoints; iPNDM and Euler, NFE 4–5)', function () {
    this.timeout(120_000);
    const warm = tf.tensor2d(toyNoise(256, 2, tMax, 0));
    const held = toyNoise(500, 2, tMax, 1); // another seed than the warm-up
    const exact = exactEndpoints(gmm, held, defaultSchedule);
    const rows: string[] = [];
    for (const solver of ['ipndm', 'euler'])
      for (const nfe of [4, 5]) {
        const steps = stepsForNfe(solverByName(solver), nfe, false);
        const err = (s: Parameters<typeof solveToy>[5]) => {
          const r = solveToy(gmm, held, solver, nfe, false, s);
          assert.equal(r.nfe, nfe);
          return meanDistance(r.trajectory[r.trajectory.length - 1], exact);
        };
        const poly = err(defaultSchedule);
        const res: Record<string, number> = {};
        for (const metric of ['l2', 'dev'] as const) {
          const g = gitsSchedule(teacher, warm, { steps, metric, tMin, tMax });
          res[metric] = err(explicitSchedule(g.sigmas, 'gits'));
        }
        rows.push(
          `${solver} NFE ${nfe}: poly ${poly.toFixed(4)}, GITS l2 ${res.l2.toFixed(4)} (×${(poly / res.l2).toFixed(2)}), GITS dev ${res.dev.toFixed(4)} (×${(poly / res.dev).toFixed(2)})`,
        );
        // 'l2' is the metric that sees a 2-D jump's error along the start–end line as well ('dev' does not)
        assert.ok(res.l2 < 0.75 * poly, rows[rows.length - 1]);
      }
    warm.dispose();
    if (process.env.GITS_REPORT) console.log(rows.join('\n'));
  });

  it('AFS: one more step, its point chosen between the first two, same NFE', () => {
    const warm = tf.tensor2d(toyNoise(64, 2, tMax, 0));
    const steps = stepsForNfe(solverByName('euler'), 4, true); // 5: the first call is analytic
    const g = gitsSchedule(teacher, warm, { steps, metric: 'l2', tMin, tMax, afs: { solver: 'euler' } });
    const plain = gitsSchedule(teacher, warm, { steps: steps - 1, metric: 'l2', tMin, tMax });
    warm.dispose();
    assert.equal(g.sigmas.length, steps + 1);
    assert.deepEqual([g.indices[0], ...g.indices.slice(2)], plain.indices);
    assert.ok(g.indices[1] > 0 && g.indices[1] < plain.indices[1]);
    assert.ok(g.afsDistance !== undefined && g.afsDistance >= 0);
    assert.ok(g.teacherCalls > 64 * 60); // the AFS trials are counted
    const r = solveToy(gmm, toyNoise(8, 2, tMax, 1), 'euler', 4, true, explicitSchedule(g.sigmas, 'gits'));
    assert.equal(r.nfe, 4);
  });

  it('a schedule file round-trips, samples on its grid, and is refused for another teacher or step count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfd-gits-'));
    const file = join(dir, 'gits.json');
    const f = makeGitsSchedule({
      teacher: 'gmm2d',
      solver: 'euler',
      nfe: 4,
      afs: false,
      warmup: 32,
      seed: 0,
      metric: 'dev',
      coeff: 1.15,
      teacherPoints: 21,
      teacherSolver: 'ipndm',
      rho: 7,
    });
    assert.equal(f.warmupTeacherCalls, 32 * 20);
    assert.equal(f.settings.teacherSha256, toyTeacherSha256('gmm2d'));
    assert.equal(toyTeacherSha256('ring'), toyTeacherSha256('gmm2d')); // the same mixture
    assert.notEqual(toyTeacherSha256('grid'), toyTeacherSha256('gmm2d'));
    writeScheduleFile(file, f);
    const back = readScheduleFile(file);
    assert.deepEqual(back, f);
    const run = { teacherSha256: toyTeacherSha256('gmm2d'), solver: 'ipndm', nfe: 4, afs: false };
    const s = scheduleForSampling(file, run, back);
    assert.deepEqual(s, { kind: 'explicit', method: 'gits', sigmas: f.sigmas, tMin, tMax });
    // any solver with as many steps samples on it
    const r = sampleToy({ ...sampleDefaults, solver: 'ipndm', nfe: 4, n: 8, schedule: s });
    assert.deepEqual(r.ts, f.sigmas);
    assert.throws(
      () => scheduleForSampling(file, { ...run, teacherSha256: toyTeacherSha256('grid') }, back),
      (e: Error) =>
        e.message.includes(f.settings.teacherSha256) &&
        e.message.includes(toyTeacherSha256('grid')) &&
        !e.message.includes('\n'),
    );
    assert.throws(() => scheduleForSampling(file, { ...run, nfe: 5 }, back), /has 4 steps .*takes 5/);
    assert.throws(() => scheduleForSampling(file, { ...run, solver: 'heun' }, back), /heun at NFE 4 takes 2/);
    assert.throws(() => timeGrid(6, s), /has 5 σ values \(4 steps\), the sampler needs 6/);
    assert.throws(() => explicitSchedule([80, 1, 1, 0.002], 'gits'), /strictly decreasing/);
    writeScheduleFile(join(dir, 'bad.json'), { ...f, format: 'other' } as unknown as typeof f);
    assert.throws(() => readScheduleFile(join(dir, 'bad.json')), /not a schedule file/);
  });
});
