import * as tf from '@tensorflow/tfjs';
import { withAfs } from './afs';
import { countCalls, type Denoiser, direction, odeDirection } from './denoiser';
import { polynomialGrid } from './schedules';
import { solverByName } from './solvers/registry';

/**
 * GITS (Geometry-Inspired Time Scheduling, Chen et al. 2024; zju-pi/diff-sampler gits-main): a σ grid
 * found by dynamic programming over one fine teacher trajectory per warm-up sample.
 *
 * 1. The teacher solver (iPNDM by default) runs once on a fine polynomial grid σ_0 > … > σ_{N−1} (61 points),
 *    keeping every state x_i and the derivative d_i = (x_i − D(x_i, σ_i))/σ_i it evaluated there.
 * 2. c[i][j] (i < j) is the cost of one Euler jump x_i + (σ_j − σ_i)·d_i from teacher point i to σ_j,
 *    averaged over the warm-up samples:
 *      'dev' (default): distance of the jump's endpoint from the straight line through the trajectory's
 *        start x_0 and end x_{N−1}, minus the teacher's own distance at j (signed; 0 at the last point);
 *      'l1' / 'l2': the per-sample norm of the jump's endpoint minus x_j.
 * 3. With V_1(i) = c[i][N−1] and V_k(i) = min_{i<m<N−1} c[i][m] + coeff·V_{k−1}(m), the schedule is the
 *    argmin path from point 0 in `steps` jumps (the m-th jump weighs coeff^m), backtracked by the stored
 *    argmin (not by float equality).
 * 4. Optional AFS (as in gits-main): the DP runs with one step fewer; every teacher index k in (0, φ₁) is
 *    tried as an extra first point, the target solver samples the warm-up noise with AFS on each grid, and
 *    the k whose samples land closest (mean L2) to the teacher's wins. NFE is unchanged by the extra step.
 *
 * Its cost is the warm-up: one teacher solve (N−1 steps) per warm-up sample, plus with AFS one target-solver
 * solve per candidate.
 */

export type GitsMetric = 'dev' | 'l1' | 'l2';
export const GITS_METRICS: readonly GitsMetric[] = ['dev', 'l1', 'l2'];

/** gits-main's defaults (README / launch.sh): 61 teacher points, iPNDM teacher, 'dev' metric, coeff 1.15. */
export const gitsDefaults = {
  teacherPoints: 61,
  teacherSolver: 'ipndm',
  metric: 'dev' as GitsMetric,
  coeff: 1.15,
  rho: 7,
  warmup: 256,
};

export interface GitsOptions {
  /** Intervals of the searched grid (steps + 1 σ values): the sampling solver's steps at its NFE. */
  steps: number;
  /** Points of the fine teacher grid (default 61). */
  teacherPoints?: number;
  /** Registry name of the teacher solver (default ipndm). */
  teacherSolver?: string;
  metric?: GitsMetric;
  /** DP weight of each later jump (default 1.15; gits-main uses 1.20 for Stable Diffusion). */
  coeff?: number;
  tMin: number;
  tMax: number;
  /** Exponent of the teacher's polynomial grid (default 7). */
  rho?: number;
  /** Warm-up samples per teacher solve (default: all at once); the cost matrix averages over all of them. */
  batch?: number;
  /**
   * AFS selection for this sampling solver: `steps` then counts the solver's steps *with* AFS (one more
   * than the DP's), and the extra first point is chosen by sampling the warm-up noise.
   */
  afs?: { solver: string };
  /** Called after each warm-up batch (samples done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface GitsResult {
  /** steps + 1 values, strictly decreasing, from tMax to tMin (a subset of the teacher grid). */
  sigmas: number[];
  /** Indices of `sigmas` in the teacher grid. */
  indices: number[];
  /** The fine teacher grid. */
  teacherGrid: number[];
  /** Teacher-solver denoiser evaluations per warm-up trajectory (N−1 for a 1-call solver). */
  teacherNfe: number;
  /** All denoiser evaluations of the search, summed over warm-up samples (n·teacherNfe, plus AFS trials). */
  teacherCalls: number;
  /** c[i][j], the mean cost of an Euler jump from teacher point i to σ_j (NaN where j ≤ i). */
  costMatrix: number[][];
  /** The DP's optimal value (for the DP's steps, without the AFS point). */
  cost: number;
  /** With AFS: the mean L2 distance of the chosen grid's warm-up samples to the teacher's. */
  afsDistance?: number;
}

/** Throws a one-line RangeError unless the options are usable; returns them with defaults filled in. */
export function checkGitsOptions(o: GitsOptions) {
  const teacherPoints = o.teacherPoints ?? gitsDefaults.teacherPoints;
  const metric = o.metric ?? gitsDefaults.metric;
  const coeff = o.coeff ?? gitsDefaults.coeff;
  const rho = o.rho ?? gitsDefaults.rho;
  const teacherSolver = o.teacherSolver ?? gitsDefaults.teacherSolver;
  solverByName(teacherSolver);
  if (o.afs) solverByName(o.afs.solver);
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new RangeError(`GITS needs steps ≥ 1 integer, got ${o.steps}`);
  const dpSteps = o.afs ? o.steps - 1 : o.steps;
  if (dpSteps < 1) throw new RangeError(`GITS with AFS needs at least 2 steps, got ${o.steps}`);
  if (!Number.isInteger(teacherPoints) || teacherPoints < o.steps + 1)
    throw new RangeError(
      `GITS picks ${o.steps + 1} σ values out of the teacher grid: it needs at least that many points, got ${teacherPoints}`,
    );
  if (!GITS_METRICS.includes(metric))
    throw new RangeError(`GITS metric must be one of ${GITS_METRICS.join(', ')}, got '${metric}'`);
  if (!(coeff > 0) || !Number.isFinite(coeff)) throw new RangeError(`GITS coeff must be > 0, got ${coeff}`);
  if (o.batch !== undefined && (!Number.isInteger(o.batch) || o.batch < 1))
    throw new RangeError(`GITS batch must be a positive integer, got ${o.batch}`);
  return { teacherPoints, metric, coeff, rho, teacherSolver, dpSteps };
}

/**
 * The optimal path of `steps` jumps from teacher point 0 to point N−1 under cost[i][j] (i < j), the m-th
 * jump weighted coeff^m; intermediate points are < N−1. Returns the N-grid indices (steps + 1 of them,
 * 0 first, N−1 last) and the optimal value.
 */
export function gitsDp(cost: readonly (readonly number[])[], steps: number, coeff: number) {
  const n = cost.length;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`GITS DP needs steps ≥ 1, got ${steps}`);
  if (n < steps + 1) throw new RangeError(`GITS DP: ${steps} steps need ≥ ${steps + 1} points, got ${n}`);
  const last = n - 1;
  // value[k][i]: best cost from point i to the last point in exactly k jumps; arg[k][i]: its next point
  const value: number[][] = [[]];
  const arg: number[][] = [[]];
  value[1] = Array.from({ length: n }, (_, i) => (i < last ? cost[i][last] : Number.POSITIVE_INFINITY));
  arg[1] = Array(n).fill(last);
  for (let k = 2; k <= steps; k++) {
    value[k] = Array(n).fill(Number.POSITIVE_INFINITY);
    arg[k] = Array(n).fill(-1);
    for (let i = 0; i < last; i++)
      for (let m = i + 1; m < last; m++) {
        const v = cost[i][m] + coeff * value[k - 1][m];
        if (v < value[k][i]) {
          value[k][i] = v;
          arg[k][i] = m;
        }
      }
  }
  if (!Number.isFinite(value[steps][0]))
    throw new RangeError(`GITS DP found no finite path of ${steps} steps (a non-finite cost?)`);
  const indices = [0];
  for (let k = steps; k >= 2; k--) indices.push(arg[k][indices[indices.length - 1]]);
  indices.push(last);
  return { indices, value: value[steps][0] };
}

/** [B, …] → [B, D]. */
const flat = (x: tf.Tensor) => x.reshape([x.shape[0], -1]) as tf.Tensor2D;

/**
 * Solves the teacher on the grid keeping every state, and the derivative d_i that the solver evaluated at
 * each state before stepping (captured from its first denoiser call of the step, at (x_i, σ_i); a solver
 * that does not start a step there gets d_i recomputed, an extra call). `calls`: denoiser calls made.
 */
export function teacherTrajectory(
  teacher: Denoiser,
  xT: tf.Tensor,
  ts: readonly number[],
  solver: string,
): { states: tf.Tensor[]; dirs: tf.Tensor[]; calls: number } {
  const entry = solverByName(solver);
  const counted = countCalls(teacher);
  const dirs: (tf.Tensor | undefined)[] = Array(ts.length - 1).fill(undefined);
  let step = 0;
  const capturing: Denoiser = (x, t, cond) => {
    const out = counted.denoise(x, t, cond);
    if (step < dirs.length && dirs[step] === undefined && t === ts[step])
      dirs[step] = tf.keep(tf.tidy(() => odeDirection(x, out, t)));
    return out;
  };
  let r: ReturnType<typeof entry.solve>;
  try {
    r = entry.solve(capturing, xT, ts, {
      keep: 'all',
      onStep: ({ i }) => {
        step = i + 1;
      },
    });
  } catch (e) {
    tf.dispose(dirs.filter((d): d is tf.Tensor => d !== undefined));
    throw e;
  }
  r.x.dispose();
  const states = r.trajectory;
  const full = dirs.map((d, i) => d ?? direction(counted.denoise, states[i], ts[i]));
  return { states, dirs: full, calls: counted.calls() };
}

/**
 * Per-batch sums of the GITS cost over samples: sums[i][j] = Σ_b cost_b(i → j) (the caller divides by the
 * number of samples). `states` holds all N teacher states, `dirs` the N−1 derivatives.
 */
export function gitsCostSums(
  states: readonly tf.Tensor[],
  dirs: readonly tf.Tensor[],
  ts: readonly number[],
  metric: GitsMetric,
): number[][] {
  const n = ts.length;
  if (states.length !== n || dirs.length !== n - 1)
    throw new RangeError(
      `GITS cost: need ${n} states and ${n - 1} derivatives, got ${states.length}, ${dirs.length}`,
    );
  const sums: number[][] = Array.from({ length: n }, () => Array(n).fill(Number.NaN));
  // each row i: every jump target j > i at once, as a [J, B, D] tensor
  const row = (i: number, f: (h: tf.Tensor) => tf.Tensor) => {
    const v = tf.tidy(() => {
      const h = tf.tensor1d(ts.slice(i + 1).map((t) => t - ts[i])).reshape([-1, 1, 1]);
      return f(h).arraySync() as number[];
    });
    v.forEach((s, k) => {
      sums[i][i + 1 + k] = s;
    });
  };
  if (metric === 'dev') {
    const [u, devTea] = tf.tidy(() => {
      const x0 = flat(states[0]);
      const xe = flat(states[n - 1]);
      const bc = xe.sub(x0);
      const unit = bc.div(bc.norm('euclidean', 1, true).maximum(1e-30));
      // the teacher's own distance from the line at each point (0 at the last one, as gits-main pads it)
      const own = states.map((s, j) => (j === n - 1 ? tf.scalar(0) : perpNorm(xe.sub(flat(s)), unit).sum()));
      return [unit, tf.stack(own)];
    });
    const devTeaSums = devTea.arraySync() as number[];
    const xe = flat(states[n - 1]);
    for (let i = 0; i < n - 1; i++)
      row(i, (h) => {
        // c − x_next = (c − x_i) − h·d_i, and its part perpendicular to the start–end line
        const pv = perpVec(xe.sub(flat(states[i])), u).expandDims(0);
        const pw = perpVec(flat(dirs[i]), u).expandDims(0);
        const dist = pv.sub(h.mul(pw)).norm('euclidean', 2).sum(1); // [J]
        return dist.sub(tf.tensor1d(devTeaSums.slice(i + 1)));
      });
    tf.dispose([u, devTea, xe]);
  } else {
    const all = tf.tidy(() => tf.stack(states.map(flat))); // [N, B, D]
    const ord = metric === 'l1' ? 1 : 'euclidean';
    for (let i = 0; i < n - 1; i++)
      row(i, (h) => {
        const next = flat(states[i])
          .expandDims(0)
          .add(h.mul(flat(dirs[i]).expandDims(0)));
        const target = all.slice([i + 1, 0, 0], [n - 1 - i, -1, -1]);
        return next.sub(target).norm(ord, 2).sum(1);
      });
    all.dispose();
  }
  return sums;
}

/** Per-row norm of the part of a [B, D] that is perpendicular to the unit rows of `unit`. */
function perpNorm(a: tf.Tensor, unit: tf.Tensor): tf.Tensor {
  return perpVec(a, unit).norm('euclidean', 1);
}

function perpVec(a: tf.Tensor, unit: tf.Tensor): tf.Tensor {
  return a.sub(a.mul(unit).sum(1, true).mul(unit));
}

/** The GITS schedule of a teacher from warm-up noise x_T (at tMax); see the file's comment. */
export function gitsSchedule(teacher: Denoiser, noise: tf.Tensor, opts: GitsOptions): GitsResult {
  const o = checkGitsOptions(opts);
  const total = noise.shape[0];
  if (noise.rank < 2 || total < 1)
    throw new RangeError(
      `GITS warm-up noise must be batch-first with ≥ 1 sample, got shape [${noise.shape}]`,
    );
  const ts = polynomialGrid(o.teacherPoints, opts.tMin, opts.tMax, o.rho);
  const n = ts.length;
  const batch = Math.min(opts.batch ?? total, total);
  const sums: number[][] = Array.from({ length: n }, () => Array(n).fill(0));
  let calls = 0;
  let teacherNfe = 0;
  const ends: tf.Tensor[] = [];
  try {
    for (let s = 0; s < total; s += batch) {
      const b = Math.min(batch, total - s);
      const xT = noise.slice(s, b);
      const traj = teacherTrajectory(teacher, xT, ts, o.teacherSolver);
      xT.dispose();
      try {
        const part = gitsCostSums(traj.states, traj.dirs, ts, o.metric);
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sums[i][j] += part[i][j];
        if (opts.afs) ends.push(traj.states[n - 1].clone());
      } finally {
        tf.dispose([...traj.states, ...traj.dirs]);
      }
      calls += traj.calls * b;
      teacherNfe = traj.calls;
      opts.onProgress?.(s + b, total);
    }
    const costMatrix = sums.map((r, i) => r.map((v, j) => (j > i ? v / total : Number.NaN)));
    const dp = gitsDp(costMatrix, o.dpSteps, o.coeff);
    let indices = dp.indices;
    let afsDistance: number | undefined;
    if (opts.afs) {
      const chosen = chooseAfsPoint(teacher, noise, ts, indices, ends, opts.afs.solver, batch);
      indices = chosen.indices;
      afsDistance = chosen.distance;
      calls += chosen.calls;
    }
    return {
      sigmas: indices.map((i) => ts[i]),
      indices,
      teacherGrid: ts,
      teacherNfe,
      teacherCalls: calls,
      costMatrix,
      cost: dp.value,
      afsDistance,
    };
  } finally {
    tf.dispose(ends);
  }
}

/**
 * gits-main's AFS: each teacher index k in (0, φ₁) becomes an extra first point; the solver samples the
 * warm-up noise with AFS on that grid and the k with the smallest mean L2 distance to the teacher's end wins.
 */
function chooseAfsPoint(
  teacher: Denoiser,
  noise: tf.Tensor,
  ts: readonly number[],
  dpIndices: readonly number[],
  teacherEnds: readonly tf.Tensor[],
  solver: string,
  batch: number,
): { indices: number[]; distance: number; calls: number } {
  const entry = solverByName(solver);
  if (dpIndices[1] < 2)
    throw new RangeError(
      `GITS with AFS: the DP's second point is the teacher grid's second (index 1), leaving no point for AFS; use more teacher points`,
    );
  let best: { indices: number[]; distance: number } | null = null;
  let calls = 0;
  for (let k = 1; k < dpIndices[1]; k++) {
    const indices = [0, k, ...dpIndices.slice(1)];
    const grid = indices.map((i) => ts[i]);
    let dist = 0;
    for (let s = 0, part = 0; s < noise.shape[0]; s += batch, part++) {
      const b = Math.min(batch, noise.shape[0] - s);
      const counted = countCalls(teacher);
      const xT = noise.slice(s, b);
      const r = entry.solve(withAfs(counted.denoise, grid[0]), xT, grid, { keep: [] });
      dist += tf.tidy(
        () => flat(r.x).sub(flat(teacherEnds[part])).norm('euclidean', 1).sum().arraySync() as number,
      );
      tf.dispose([xT, r.x, ...r.trajectory]);
      calls += counted.calls() * b;
    }
    dist /= noise.shape[0];
    if (best === null || dist < best.distance) best = { indices, distance: dist };
  }
  return { ...(best as { indices: number[]; distance: number }), calls };
}
