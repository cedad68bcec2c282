import { defaultSchedule, type ScheduleConfig } from '../diffusion/schedules';
import { feasibleNfes, SOLVER_NAMES, solverByName } from '../diffusion/solvers/registry';
import { TOY_MIXTURES } from '../models/toys';
import { exactEndpoints, meanDistance, solveToy, toyNoise } from './toySolve';

export interface QuickstartConfig {
  /** Toy teacher (2-D Gaussian mixture) name. */
  teacher: string;
  /** Solvers to compare. */
  solvers: string[];
  /** NFE range; each solver runs at the NFEs it can spend exactly. */
  minNfe: number;
  maxNfe: number;
  /** Samples per run (shared noise across runs). */
  n: number;
  seed: number;
  schedule: ScheduleConfig;
}

export const quickstartDefaults: QuickstartConfig = {
  teacher: 'gmm2d',
  solvers: [...SOLVER_NAMES],
  minNfe: 2,
  maxNfe: 10,
  n: 1000,
  seed: 0,
  schedule: defaultSchedule,
};

export interface QuickstartRow {
  solver: string;
  label: string;
  afs: boolean;
  nfe: number;
  /** Mean distance between solver endpoints and exact ODE endpoints from the same noise. */
  error: number;
}

export interface QuickstartResult {
  config: QuickstartConfig;
  rows: QuickstartRow[];
  noise: number[][];
  exact: number[][];
}

/** Every solver at every feasible NFE, with and without AFS, against the exact ODE solution of a 2-D mixture. */
export function quickstart(overrides: Partial<QuickstartConfig> = {}): QuickstartResult {
  const config = { ...quickstartDefaults, ...overrides };
  const make = TOY_MIXTURES[config.teacher];
  if (!make) throw new RangeError(`unknown teacher '${config.teacher}'`);
  const gmm = make();
  const noise = toyNoise(config.n, 2, config.schedule.tMax, config.seed);
  const exact = exactEndpoints(gmm, noise, config.schedule);
  const rows: QuickstartRow[] = [];
  for (const solver of config.solvers) {
    const entry = solverByName(solver);
    for (const afs of [false, true]) {
      for (const nfe of feasibleNfes(entry, afs, config.minNfe, config.maxNfe)) {
        const r = solveToy(gmm, noise, solver, nfe, afs, config.schedule);
        rows.push({
          solver,
          label: entry.label,
          afs,
          nfe: r.nfe,
          error: meanDistance(r.trajectory[r.trajectory.length - 1], exact),
        });
      }
    }
  }
  return { config, rows, noise, exact };
}

/**
 * One row per solver (and AFS setting), one column per NFE ('NFE 2', …, numeric order), errors to 3
 * significant digits, '–' where the solver cannot spend that NFE exactly: ready for a table.
 */
export function quickstartTableRows(r: QuickstartResult): Record<string, string>[] {
  const nfes = [...new Set(r.rows.map((row) => row.nfe))].sort((a, b) => a - b);
  const names = [...new Set(r.rows.map((row) => `${row.label}${row.afs ? ' +AFS' : ''}`))];
  return names.map((name) => {
    const out: Record<string, string> = { solver: name };
    for (const nfe of nfes) {
      const row = r.rows.find((x) => `${x.label}${x.afs ? ' +AFS' : ''}` === name && x.nfe === nfe);
      out[`NFE ${nfe}`] = row ? row.error.toPrecision(3) : '–';
    }
    return out;
  });
}
