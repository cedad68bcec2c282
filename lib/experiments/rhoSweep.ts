import { timeGrid } from '../diffusion/schedules';
import type { ChartSpec } from '../plot/lineChart';
import { scale } from '../runtime/profile';
import { sfdDefaults, studentTimestamps } from '../sfd/config';
import { distilled } from './distilled';
import { samplerFid } from './studentSamples';

export interface RhoSweepConfig {
  teacher: string;
  nfe: number;
  rhos: number[];
  iterations: number;
  batch: number;
  /** Images per FID (fixed seed). */
  fidN: number;
}

export const rhoSweepDefaults: RhoSweepConfig = {
  teacher: 'mnist',
  nfe: 2,
  rhos: scale([1, 2, 3, 5, 7, 10], [3, 7]),
  iterations: scale(200, 2),
  batch: scale(16, 2),
  fidN: scale(1000, 50),
};

export interface RhoSweepRow {
  rho: number;
  /** The student's timestamps for this ρ. */
  ts: number[];
  fid: number;
  /** The same Euler sampler (grid, AFS) on the undistilled teacher. */
  undistilledFid: number;
  seconds: number;
  dir: string;
}

/** SFD at one NFE for each polynomial-schedule ρ (both grids use it): FID per ρ. */
export async function rhoSweep(
  overrides: Partial<RhoSweepConfig> = {},
): Promise<{ config: RhoSweepConfig; rows: RhoSweepRow[] }> {
  const c = { ...rhoSweepDefaults, ...overrides };
  const rows: RhoSweepRow[] = [];
  for (const rho of c.rhos) {
    const cfg: typeof sfdDefaults = {
      ...sfdDefaults,
      nfes: [c.nfe],
      schedule: { ...sfdDefaults.schedule, rho },
      iterations: c.iterations,
      batch: c.batch,
    };
    const st = await distilled(cfg, { teacher: c.teacher, label: `ρ = ${rho}` });
    rows.push({
      rho,
      ts: timeGrid(studentTimestamps(c.nfe, cfg.afs), cfg.schedule),
      fid: await samplerFid({ model: st.dir, nfe: c.nfe }, c.fidN),
      undistilledFid: await samplerFid(
        { model: c.teacher, nfe: c.nfe, solver: 'euler', afs: cfg.afs, schedule: cfg.schedule },
        c.fidN,
      ),
      seconds: st.seconds,
      dir: st.dir,
    });
  }
  return { config: c, rows };
}

export function rhoSweepTableRows(r: { rows: RhoSweepRow[] }): Record<string, string | number>[] {
  return r.rows.map((row) => ({
    ρ: row.rho,
    'student timestamps': row.ts.map((t) => t.toPrecision(3)).join(', '),
    'FID, SFD': Number(row.fid.toFixed(2)),
    'FID, undistilled Euler': Number(row.undistilledFid.toFixed(2)),
    'training s': Math.round(row.seconds),
  }));
}

export function rhoSweepChart(r: { config: RhoSweepConfig; rows: RhoSweepRow[] }): ChartSpec {
  return {
    series: [{ name: `SFD, NFE ${r.config.nfe}`, x: r.rows.map((x) => x.rho), y: r.rows.map((x) => x.fid) }],
    opts: {
      title: `FID (N = ${r.config.fidN}) of SFD at NFE ${r.config.nfe} against the schedule's ρ`,
      xLabel: 'ρ (polynomial schedule)',
      yLabel: 'FID',
      logY: true,
    },
  };
}
