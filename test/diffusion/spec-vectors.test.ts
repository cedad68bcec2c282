import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../../lib/diffusion/afs';
import { polynomialGrid, teacherGrid } from '../../lib/diffusion/schedules';
import { dpmpp } from '../../lib/diffusion/solvers/dpmpp';
import { euler } from '../../lib/diffusion/solvers/euler';
import { gaussianDenoiser, gaussianOdeSolution } from '../../lib/models/gaussian';
import { assertClose, first } from '../helpers';

// spec §9.5: data ~ N(0, 0.5²), x_T = 80 at T = 80, all entries equal.
const g = { mean: 0, std: 0.5 };
const D = gaussianDenoiser(g);
const start = () => tf.fill([3, 2], 80);
const values = (r: { trajectory: tf.Tensor[] }) => r.trajectory.map(first);
const SCHEDULE = { kind: 'polynomial' as const, rho: 7, tMin: 0.006, tMax: 80 };

describe('spec §9.5 unit vectors (Gaussian toy denoiser)', () => {
  const ts = polynomialGrid(4, 0.006, 80);

  it('the exact solution at the N=4 student grid', () => {
    assertClose(
      ts.map((t) => gaussianOdeSolution(g, 80, 80, t)),
      [80, 10.940515, 0.8358944, 0.5000262],
      1e-7,
    );
  });

  it('Euler without AFS', () => {
    const x = start();
    const r = euler(D, x, ts, { keep: 'all' });
    assertClose(values(r), [80, 10.9319954, 0.6914837, 0.2513789], 2e-6);
    tf.dispose([x, r.x, ...r.trajectory]);
  });

  it('Euler with AFS', () => {
    const x = start();
    const r = euler(withAfs(D, ts[0]), x, ts, { keep: 'all' });
    assertClose(values(r), [80, 10.934693, 0.6916544, 0.251441], 2e-6);
    tf.dispose([x, r.x, ...r.trajectory]);
  });

  it('DPM-Solver++(3M) on the 13-point teacher grid and its sliced targets', () => {
    const grid = teacherGrid(4, 4, SCHEDULE);
    const x = start();
    const r = dpmpp(D, x, grid.ts, { order: 3, keep: 'all' });
    const traj = values(r);
    const expected = [
      80, 51.158269, 31.732733, 19.0091737, 10.9398995, 6.0136631, 3.1444378, 1.579604, 0.826977, 0.5777286,
      0.5592942, 0.5842293, 0.5828973,
    ];
    assertClose(traj, expected, 5e-6);
    assertClose(
      grid.studentIndices.slice(1).map((i) => traj[i]),
      [10.9398995, 0.826977, 0.5828973],
      5e-6,
    );
    tf.dispose([x, r.x, ...r.trajectory]);
  });

  it('final values of DPM-Solver++(3M) and Euler over 13/25/50/100/400 timestamps', () => {
    const finals = (solve: typeof euler) =>
      [13, 25, 50, 100, 400].map((n) => {
        const x = start();
        const r = solve(D, x, polynomialGrid(n, 0.006, 80));
        const v = first(r.x);
        tf.dispose([x, r.x]);
        return v;
      });
    assertClose(finals(dpmpp), [0.5829, 0.50147, 0.5005, 0.50017, 0.50004], 0, 6e-5);
    assertClose(finals(euler), [0.39912, 0.44674, 0.47317, 0.48655, 0.49665], 0, 6e-5);
  });
});
