import { deis } from './deis';
import { dpm2 } from './dpm2';
import { dpmpp } from './dpmpp';
import { euler } from './euler';
import { heun } from './heun';
import type { Solver } from './integrate';
import { ipndm } from './ipndm';
import { unipc } from './unipc';

export interface SolverEntry {
  name: string;
  /** What the name stands for, for help texts and tables. */
  label: string;
  /** Denoiser calls per step (AFS saves one call in total). */
  evalsPerStep: number;
  /** Whether the solver accepts `threshold: true` (dynamic thresholding of x0). */
  thresholds: boolean;
  solve: Solver<{ threshold?: boolean }>;
}

const entry = (
  name: string,
  label: string,
  evalsPerStep: number,
  solve: SolverEntry['solve'],
  thresholds = false,
): SolverEntry => ({
  name,
  label,
  evalsPerStep,
  thresholds,
  solve,
});

/** Every solver by its CLI/notebook name. The variants of the multistep solvers are fixed settings. */
export const SOLVERS: Readonly<Record<string, SolverEntry>> = {
  euler: entry('euler', 'Euler (DDIM)', 1, euler),
  heun: entry('heun', 'Heun (EDM)', 2, heun),
  dpm2: entry('dpm2', 'DPM-Solver-2', 2, (d, x, ts, o) => dpm2(d, x, ts, { r: 0.5, ...o })),
  ipndm: entry('ipndm', 'iPNDM (order 4)', 1, (d, x, ts, o) => ipndm(d, x, ts, { maxOrder: 4, ...o })),
  'dpmpp-2m': entry(
    'dpmpp-2m',
    'DPM-Solver++(2M)',
    1,
    (d, x, ts, o) => dpmpp(d, x, ts, { order: 2, ...o }),
    true,
  ),
  'dpmpp-3m': entry(
    'dpmpp-3m',
    'DPM-Solver++(3M)',
    1,
    (d, x, ts, o) => dpmpp(d, x, ts, { order: 3, ...o }),
    true,
  ),
  // diff-sampler's setting (bh2, lower-order final); the corrector reuses the next step's call: NFE = steps
  unipc: entry(
    'unipc',
    'UniPC (bh2, order 3)',
    1,
    (d, x, ts, o) => unipc(d, x, ts, { order: 3, variant: 'bh2', ...o }),
    true,
  ),
  // tAB3; diff-sampler's "DEIS-tAB3" launch setting runs max_order 4 (`deis(…, { maxOrder: 4 })`)
  deis: entry('deis', 'DEIS (tAB3)', 1, (d, x, ts, o) => deis(d, x, ts, { maxOrder: 3, ...o })),
};

const ALIASES: Readonly<Record<string, string>> = { ddim: 'euler', dpm: 'dpm2', dpmpp: 'dpmpp-3m' };

export const SOLVER_NAMES: readonly string[] = Object.keys(SOLVERS);

/** The solver called `name` (or an alias: ddim, dpm, dpmpp); unknown names throw, listing the known ones. */
export function solverByName(name: string): SolverEntry {
  const e = SOLVERS[ALIASES[name] ?? name];
  if (!e) {
    throw new RangeError(
      `unknown solver '${name}' (known: ${SOLVER_NAMES.join(', ')}; aliases: ${Object.keys(ALIASES).join(', ')})`,
    );
  }
  return e;
}

/** Steps that spend exactly `nfe` calls (steps·evalsPerStep − 1 with AFS), or null if none does. */
function exactSteps(solver: SolverEntry, nfe: number, afs: boolean): number | null {
  const steps = (nfe + (afs ? 1 : 0)) / solver.evalsPerStep;
  return Number.isInteger(steps) ? steps : null;
}

/**
 * Number of grid intervals that spend exactly `nfe` denoiser calls.
 * Impossible combinations (NFE < 1, or odd/even mismatches for 2-call solvers) throw.
 */
export function stepsForNfe(solver: SolverEntry, nfe: number, afs: boolean): number {
  if (!Number.isInteger(nfe) || nfe < 1) throw new RangeError(`NFE must be an integer ≥ 1, got ${nfe}`);
  const steps = exactSteps(solver, nfe, afs);
  if (steps === null) {
    const parity = afs ? 'odd' : 'even';
    throw new RangeError(
      `${solver.name} makes ${solver.evalsPerStep} calls per step: NFE must be ${parity}${afs ? ' with AFS' : ' without AFS'}, got ${nfe}`,
    );
  }
  return steps;
}

/** NFEs in [lo, hi] that a solver can spend exactly (with or without AFS). */
export function feasibleNfes(solver: SolverEntry, afs: boolean, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let n = Math.max(1, lo); n <= hi; n++) if (exactSteps(solver, n, afs) !== null) out.push(n);
  return out;
}
