import type * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import type { TeacherGrid } from '../diffusion/schedules';
import { type Gmm, gmmOdeSolution } from '../models/gmm';
import { type ChartSpec, lineChart } from '../plot/lineChart';
import { type PointLayer, scatterChart } from '../plot/scatterChart';
import { PALETTE } from '../plot/svgCanvas';
import { type StudentSampling, studentSampler } from '../sfd/sampleStudent';

/**
 * Pictures for the step-by-step notebook (01-sfd-step-by-step): the algorithm itself is written in its
 * cells with the library's own functions; these only draw what they compute. States are drawn in
 * VP-scaled coordinates x/√(1+t²), so noise at t = 80 and data share one frame.
 */

/** A 2-D state at time t in VP-scaled coordinates. */
export function vpScaled(x: readonly number[], t: number): number[] {
  return x.map((v) => v / Math.sqrt(1 + t * t));
}

/** The student's N-point grid and the teacher's K·(N−1)+1-point grid on one log time axis. */
export function gridsChart(grid: TeacherGrid, k: number): ChartSpec {
  return {
    series: [
      {
        name: `teacher grid (K = ${k} steps per student step)`,
        x: grid.ts,
        y: grid.ts.map(() => 1),
        color: PALETTE[1],
      },
      { name: 'student grid', x: grid.studentTs, y: grid.studentTs.map(() => 2), color: PALETTE[0] },
    ],
    opts: {
      title: `the student's ${grid.studentTs.length} timestamps inside the teacher's ${grid.ts.length}`,
      xLabel: 't (log scale; sampling runs right to left)',
      yLabel: '',
      logX: true,
      yDomain: [0.5, 2.5],
      hideYTicks: true,
      height: 220,
    },
  };
}

/** Exact PF-ODE states of the mixture from each x_T (rows, at ts[0]) at every later time in `ts`. */
export function exactPaths(
  gmm: Gmm,
  xT: readonly (readonly number[])[],
  ts: readonly number[],
): number[][][] {
  return xT.map((z) => [[...z], ...gmmOdeSolution(gmm, z, ts[0], ts.slice(1), 100)]);
}

/** A denoiser's walk along a student sampler's grid from x_T: the state at every student timestamp. */
export async function walkPaths(
  denoise: Denoiser,
  sampling: StudentSampling,
  nfe: number,
  xT: tf.Tensor2D,
): Promise<{ ts: number[]; paths: number[][][] }> {
  const sampler = studentSampler(denoise, sampling, nfe);
  const states: number[][][] = [xT.arraySync()];
  const end = await sampler.walk(xT, (_, { x }) => {
    states.push(x.arraySync() as number[][]);
  });
  end.dispose();
  const ts = [sampler.steps[0].t, ...sampler.steps.map((s) => s.tNext)];
  // [timestamp][sample] → [sample][timestamp]
  return { ts, paths: states[0].map((_, i) => states.map((s) => s[i])) };
}

/** Paths (per sample, states at ts) and their endpoints, VP-scaled, as one scatter layer. */
export function pathLayer(
  name: string,
  paths: number[][][],
  ts: readonly number[],
  color: string,
): PointLayer {
  const scaled = paths.map((p) => p.map((x, j) => vpScaled(x, ts[j])));
  return { name, points: scaled.map((p) => p[p.length - 1]), paths: scaled, color, radius: 1.8 };
}

/** Layers of trajectories on one square frame, the data window of the ring mixture. */
export function pathsChart(title: string, layers: PointLayer[]): string {
  return scatterChart(layers, { title, domain: [-1.6, 1.6] });
}

/** A loss curve (log y). */
export function lossChart(title: string, losses: readonly number[], xLabel = 'step'): string {
  return lineChart([{ name: 'loss', x: losses.map((_, i) => i + 1), y: [...losses] }], {
    title,
    xLabel,
    logY: true,
    height: 240,
  });
}

/** Mean Euclidean distance between matching rows. */
export function meanRowDistance(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.hypot(...a[i].map((v, d) => v - b[i][d]));
  return s / a.length;
}
