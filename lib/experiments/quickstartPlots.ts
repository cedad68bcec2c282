import { solverByName } from '../diffusion/solvers/registry';
import type { Gmm } from '../models/gmm';
import type { ChartSpec, Series } from '../plot/lineChart';
import { scatterChart } from '../plot/scatterChart';
import { PALETTE } from '../plot/svgCanvas';
import type { QuickstartResult } from './quickstart';
import { solveToy } from './toySolve';

/** Endpoint error vs NFE for every solver: solid without AFS, dashed with AFS, log scale. */
export function quickstartErrorChart(r: QuickstartResult): ChartSpec {
  const series: Series[] = [];
  r.config.solvers.forEach((solver, k) => {
    for (const afs of [false, true]) {
      const rows = r.rows.filter((row) => row.solver === solver && row.afs === afs);
      if (rows.length === 0) continue;
      series.push({
        name: `${solverByName(solver).label}${afs ? ' +AFS' : ''}`,
        x: rows.map((row) => row.nfe),
        y: rows.map((row) => row.error),
        dashed: afs,
        color: PALETTE[k % PALETTE.length],
      });
    }
  });
  return {
    series,
    opts: {
      title: `Endpoint error vs NFE (${r.config.teacher}, n=${r.config.n})`,
      xLabel: 'NFE (denoiser evaluations)',
      yLabel: 'mean distance to exact ODE endpoint',
      logY: true,
      width: 780,
      height: 420,
    },
  };
}

/**
 * Sampling trajectories of one solver in VP-scaled coordinates x/sqrt(1+t²) (so noise at t = 80 and data
 * share one frame), with the solver's endpoints against the exact ODE endpoints.
 */
export function trajectoryChart(
  gmm: Gmm,
  r: QuickstartResult,
  solver: string,
  nfe: number,
  afs: boolean,
  paths = 60,
): string {
  const sol = solveToy(gmm, r.noise, solver, nfe, afs, r.config.schedule);
  const scaled = r.noise
    .slice(0, paths)
    .map((_, i) => sol.trajectory.map((state, j) => state[i].map((v) => v / Math.sqrt(1 + sol.ts[j] ** 2))));
  const endpoints = sol.trajectory[sol.trajectory.length - 1];
  return scatterChart(
    [
      { name: 'exact endpoint', points: r.exact, color: '#bbb', radius: 2.2 },
      { name: `${solverByName(solver).label}`, points: endpoints, color: PALETTE[0], radius: 1.5 },
    ],
    {
      title: `${solverByName(solver).label}, NFE ${sol.nfe}${afs ? ' +AFS' : ''}`,
      paths: scaled,
      domain: [-1.8, 1.8],
    },
  );
}
