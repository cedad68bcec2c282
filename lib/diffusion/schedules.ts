/**
 * Time grids: decreasing arrays of noise levels from tMax to tMin (EDM's t = σ).
 * Each schedule is uniform in some transform of t, so a grid with K·(N−1)+1 points contains the
 * N-point grid at every K-th index (spec §1.5): that is how teacher and student grids line up.
 */

export type ScheduleKind = 'polynomial' | 'logsnr' | 'time-uniform';

export interface ScheduleConfig {
  /** polynomial: uniform in t^(1/ρ) (EDM); logsnr: uniform in log t; time-uniform: uniform in VP time^(1/ρ). */
  kind: ScheduleKind;
  /** Exponent for polynomial and time-uniform grids (paper default 7). */
  rho: number;
  /** Smallest noise level (SFD uses 0.006 for EDM models). */
  tMin: number;
  /** Largest noise level. */
  tMax: number;
}

export const defaultSchedule: ScheduleConfig = { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 };

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['polynomial', 'logsnr', 'time-uniform'];

function check(n: number, tMin: number, tMax: number, rho?: number): void {
  if (!Number.isInteger(n) || n < 2)
    throw new RangeError(`time grid needs n ≥ 2 integer timestamps, got ${n}`);
  if (!(tMin > 0) || !(tMax > tMin)) {
    throw new RangeError(`time grid needs 0 < tMin < tMax, got tMin=${tMin}, tMax=${tMax}`);
  }
  if (rho !== undefined && !(rho > 0)) throw new RangeError(`time grid needs ρ > 0, got ${rho}`);
}

const lerp = (a: number, b: number, f: number) => a + f * (b - a);

/** EDM's polynomial schedule: t_i = (tMax^(1/ρ) + i/(n−1)·(tMin^(1/ρ) − tMax^(1/ρ)))^ρ. */
export function polynomialGrid(n: number, tMin: number, tMax: number, rho = 7): number[] {
  check(n, tMin, tMax, rho);
  const a = tMax ** (1 / rho);
  const b = tMin ** (1 / rho);
  return Array.from({ length: n }, (_, i) =>
    i === n - 1 ? tMin : i === 0 ? tMax : lerp(a, b, i / (n - 1)) ** rho,
  );
}

/** Uniform in log t (equivalently in log-SNR = −2 log t). */
export function logSnrGrid(n: number, tMin: number, tMax: number): number[] {
  check(n, tMin, tMax);
  const a = Math.log(tMax);
  const b = Math.log(tMin);
  return Array.from({ length: n }, (_, i) =>
    i === n - 1 ? tMin : i === 0 ? tMax : Math.exp(lerp(a, b, i / (n - 1))),
  );
}

/**
 * EDM's VP-time schedule: VP time u runs from 1 to ε_s = 1e-3, spaced uniformly in u^(1/ρ), and maps to
 * σ(u) = sqrt(exp(½β_d u² + β_min u) − 1), with β_d, β_min chosen so that σ(1) = tMax and σ(ε_s) = tMin.
 */
export function timeUniformGrid(n: number, tMin: number, tMax: number, rho = 1, epsS = 1e-3): number[] {
  check(n, tMin, tMax, rho);
  const A = Math.log(tMax * tMax + 1);
  const B = Math.log(tMin * tMin + 1);
  const betaD = (2 * (B / epsS - A)) / (epsS - 1);
  const betaMin = A - 0.5 * betaD;
  const sigma = (u: number) => Math.sqrt(Math.expm1(0.5 * betaD * u * u + betaMin * u));
  const e = epsS ** (1 / rho);
  return Array.from({ length: n }, (_, i) =>
    i === n - 1 ? tMin : i === 0 ? tMax : sigma(lerp(1, e, i / (n - 1)) ** rho),
  );
}

/**
 * An explicit σ grid (a searched schedule such as GITS's, read from a schedule file): sampled as given,
 * so its length fixes the number of steps. tMin/tMax repeat its ends for code that needs the range.
 */
export interface ExplicitSchedule {
  kind: 'explicit';
  /** Which search produced the grid ('gits'). */
  method: string;
  /** Strictly decreasing σ values, sigmas[0] = tMax, last = tMin. */
  sigmas: number[];
  tMin: number;
  tMax: number;
}

/** What a sampler's grid can come from: a parametric schedule or an explicit σ list. */
export type SamplingSchedule = ScheduleConfig | ExplicitSchedule;

/** An explicit schedule from a σ list, checked (finite, > 0, strictly decreasing, ≥ 2 values). */
export function explicitSchedule(sigmas: readonly number[], method: string): ExplicitSchedule {
  checkExplicit(sigmas);
  return { kind: 'explicit', method, sigmas: [...sigmas], tMin: sigmas[sigmas.length - 1], tMax: sigmas[0] };
}

function checkExplicit(sigmas: readonly number[]): void {
  if (!Array.isArray(sigmas) || sigmas.length < 2)
    throw new RangeError(`an explicit schedule needs at least 2 σ values, got ${sigmas?.length ?? 0}`);
  sigmas.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
      throw new RangeError(`explicit schedule σ[${i}] = ${v} is not a finite number > 0`);
    if (i > 0 && !(v < sigmas[i - 1]))
      throw new RangeError(
        `explicit schedule must be strictly decreasing; σ[${i - 1}] = ${sigmas[i - 1]}, σ[${i}] = ${v}`,
      );
  });
}

/** The n-point grid of a schedule config (an explicit schedule must have exactly n values). */
export function timeGrid(n: number, s: SamplingSchedule): number[] {
  switch (s.kind) {
    case 'explicit':
      checkExplicit(s.sigmas);
      if (s.sigmas.length !== n)
        throw new RangeError(
          `the ${s.method} schedule has ${s.sigmas.length} σ values (${s.sigmas.length - 1} steps), the sampler needs ${n} (${n - 1} steps)`,
        );
      return [...s.sigmas];
    case 'polynomial':
      return polynomialGrid(n, s.tMin, s.tMax, s.rho);
    case 'logsnr':
      return logSnrGrid(n, s.tMin, s.tMax);
    case 'time-uniform':
      return timeUniformGrid(n, s.tMin, s.tMax, s.rho);
    default:
      throw new RangeError(
        `unknown schedule kind '${(s as { kind: string }).kind}' (known: ${SCHEDULE_KINDS.join(', ')})`,
      );
  }
}

export interface TeacherGrid {
  /** The teacher's K·(N−1)+1 timestamps. */
  ts: number[];
  /** Index in `ts` of each of the N student timestamps (0, K, 2K, …). */
  studentIndices: number[];
  /** The N student timestamps (equal to ts at studentIndices). */
  studentTs: number[];
}

/**
 * ρ of the interpolation that refines an explicit grid: each interval is split uniformly in σ^(1/ρ), so an
 * explicit copy of a ρ = 7 polynomial grid refines to exactly the finer polynomial grid.
 */
export const EXPLICIT_REFINE_RHO = 7;

/** K points per interval of an explicit σ grid (uniform in σ^(1/ρ) within each), its own points kept exactly. */
function refineExplicit(sigmas: readonly number[], k: number): number[] {
  const r = EXPLICIT_REFINE_RHO;
  const out: number[] = [];
  for (let j = 0; j + 1 < sigmas.length; j++) {
    const a = sigmas[j] ** (1 / r);
    const b = sigmas[j + 1] ** (1 / r);
    for (let i = 0; i < k; i++) out.push(i === 0 ? sigmas[j] : lerp(a, b, i / k) ** r);
  }
  out.push(sigmas[sigmas.length - 1]);
  return out;
}

/**
 * The teacher grid with K steps per student interval, and where the N student timestamps sit in it. An
 * explicit (searched) student grid is refined interval by interval (EXPLICIT_REFINE_RHO).
 */
export function teacherGrid(nStudent: number, k: number, s: SamplingSchedule): TeacherGrid {
  if (!Number.isInteger(k) || k < 1)
    throw new RangeError(`teacher steps per student step K must be ≥ 1, got ${k}`);
  const studentTs = timeGrid(nStudent, s);
  const ts = s.kind === 'explicit' ? refineExplicit(studentTs, k) : timeGrid(k * (nStudent - 1) + 1, s);
  const studentIndices = studentTs.map((_, j) => j * k);
  // Equal up to rounding by construction; make them bit-identical so lookups by time agree.
  studentIndices.forEach((idx, j) => {
    ts[idx] = studentTs[j];
  });
  return { ts, studentIndices, studentTs };
}
