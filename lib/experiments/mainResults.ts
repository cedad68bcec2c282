import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { feasibleNfes, solverByName } from '../diffusion/solvers/registry';
import { readCard } from '../models/card';
import type { ChartSpec, Series } from '../plot/lineChart';
import { repoRoot } from '../runtime/paths';
import { scale } from '../runtime/profile';
import { type SfdConfig, sfdDefaults, stage2Defaults } from '../sfd/config';
import type { SfdEvalPoint } from '../sfd/train';
import { distilled } from './distilled';
import { samplerMetrics } from './studentSamples';

export interface MainResultsConfig {
  teacher: string;
  /** Student NFEs of SFD (one student each) and of SFD-v (one student for all). */
  nfes: number[];
  /** Iterations of the students made here when no shipped one is found (data/students/<name>). */
  iterations: number;
  vIterations: number;
  stage2Iterations: number;
  batch: number;
  /** Teacher solvers and their NFE range. */
  solvers: string[];
  maxTeacherNfe: number;
  /** Samples per evaluation (FID + PRDC, seed 0). */
  n: number;
  /** FID-vs-time curves: quick FID every this many iterations. */
  evalEvery: number;
  evalN: number;
}

export const mainResultsDefaults: MainResultsConfig = {
  teacher: 'mnist',
  nfes: scale([2, 3, 4, 5], [2, 5]),
  iterations: scale(300, 2),
  vIterations: scale(600, 4),
  stage2Iterations: scale(300, 2),
  batch: scale(16, 2),
  solvers: ['euler', 'heun', 'ipndm', 'dpmpp-3m'],
  maxTeacherNfe: scale(10, 4),
  n: scale(1000, 40),
  evalEvery: scale(100, 2),
  evalN: scale(500, 20),
};

export interface MainRow {
  method: string;
  family: 'teacher solver' | 'SFD' | 'SFD-v' | 'SFD two-stage' | 'many-step teacher';
  nfe: number;
  fid: number;
  precision: number;
  recall: number;
  density: number;
  coverage: number;
  confidence: number;
  /** Fine-tuning CPU seconds (students; 0 for solvers). */
  trainSeconds: number;
  dir?: string;
}

export interface StudentRun {
  name: string;
  dir: string;
  shipped: boolean;
  seconds: number;
  evals: SfdEvalPoint[];
}

/** A shipped student (data/students/<name>) when one exists, else one distilled here and cached. */
async function student(
  name: string,
  cfg: SfdConfig,
  opts: Parameters<typeof distilled>[1],
): Promise<StudentRun> {
  const shipped = join(repoRoot(), 'data', 'students', name);
  if (existsSync(join(shipped, 'model.json'))) {
    const card = readCard(shipped);
    return { name, dir: shipped, shipped: true, seconds: Number(card.wallSeconds), evals: card.evals ?? [] };
  }
  const st = await distilled(cfg, { ...opts, label: name });
  return {
    name,
    dir: st.dir,
    shipped: false,
    seconds: st.seconds,
    evals: st.card.evals,
  };
}

/**
 * Paper Fig. 1 and Tables 2–3 at our scale: FID (and PRDC) against NFE of SFD (one student per NFE), SFD-v
 * (one for all) and two-stage 1 NFE, beside the teacher's solvers at NFE 2–10 and the many-step teacher,
 * plus FID against fine-tuning CPU time.
 */
export async function mainResults(overrides: Partial<MainResultsConfig> = {}) {
  const c = { ...mainResultsDefaults, ...overrides };
  const base: SfdConfig = { ...sfdDefaults, iterations: c.iterations, batch: c.batch };
  const evalOpts = { teacher: c.teacher, evalEvery: c.evalEvery, evalN: c.evalN };
  const sfdRuns: StudentRun[] = [];
  for (const nfe of c.nfes) sfdRuns.push(await student(`sfd-nfe${nfe}`, { ...base, nfes: [nfe] }, evalOpts));
  const vRun = await student(
    'sfd-v',
    { ...base, nfes: c.nfes, condition: 'step', iterations: c.vIterations },
    evalOpts,
  );
  // two-stage: from the largest-NFE SFD-v student (its 7-point grid when 5 is in the list), as the paper's Fig. 1
  const s2 = await student(
    'sfd-two-stage-nfe1',
    { ...base, ...stage2Defaults, iterations: c.stage2Iterations },
    { teacher: vRun.dir, stage: 2, evalEvery: c.evalEvery, evalN: c.evalN },
  );
  const rows: MainRow[] = [];
  const add = async (
    method: string,
    family: MainRow['family'],
    nfe: number,
    choice: Parameters<typeof samplerMetrics>[0],
    trainSeconds = 0,
    dir?: string,
  ) => {
    const m = await samplerMetrics(choice, c.n);
    rows.push({
      method,
      family,
      nfe,
      fid: m.fid,
      precision: m.precision,
      recall: m.recall,
      density: m.density,
      coverage: m.coverage,
      confidence: m.meanConfidence,
      trainSeconds,
      dir,
    });
  };
  for (const solver of c.solvers)
    for (const nfe of feasibleNfes(solverByName(solver), false, 2, c.maxTeacherNfe))
      await add(solverByName(solver).label, 'teacher solver', nfe, { model: c.teacher, solver, nfe });
  await add('Heun, 36 NFE', 'many-step teacher', 36, { model: c.teacher, solver: 'heun', nfe: 36 });
  for (const [i, nfe] of c.nfes.entries())
    await add('SFD', 'SFD', nfe, { model: sfdRuns[i].dir, nfe }, sfdRuns[i].seconds, sfdRuns[i].dir);
  for (const nfe of c.nfes)
    await add('SFD-v', 'SFD-v', nfe, { model: vRun.dir, nfe }, vRun.seconds, vRun.dir);
  await add(
    'SFD two-stage',
    'SFD two-stage',
    1,
    { model: s2.dir, nfe: 1 },
    vRun.seconds + s2.seconds,
    s2.dir,
  );
  return { config: c, rows, students: [...sfdRuns, vRun, s2] };
}

export type MainResults = Awaited<ReturnType<typeof mainResults>>;

export function mainTableRows(r: MainResults): Record<string, string | number>[] {
  const f = (x: number) => Number(x.toFixed(3));
  return r.rows.map((row) => ({
    method: row.method,
    NFE: row.nfe,
    FID: Number(row.fid.toFixed(2)),
    precision: f(row.precision),
    recall: f(row.recall),
    density: f(row.density),
    coverage: f(row.coverage),
    confidence: f(row.confidence),
    'fine-tuning CPU min': row.trainSeconds ? Number((row.trainSeconds / 60).toFixed(1)) : '–',
  }));
}

function byMethod(r: MainResults): Map<string, MainRow[]> {
  const m = new Map<string, MainRow[]>();
  for (const row of r.rows.filter((x) => x.family !== 'many-step teacher'))
    m.set(row.method, [...(m.get(row.method) ?? []), row]);
  return m;
}

export function fidVsNfeChart(r: MainResults): ChartSpec {
  const series: Series[] = [...byMethod(r)].map(([name, rows]) => ({
    name,
    x: rows.map((x) => x.nfe),
    y: rows.map((x) => x.fid),
    dashed: rows[0].family === 'teacher solver',
  }));
  const many = r.rows.find((x) => x.family === 'many-step teacher');
  if (many)
    series.push({
      name: `teacher, Heun 36 NFE`,
      x: [1, r.config.maxTeacherNfe],
      y: [many.fid, many.fid],
      dashed: true,
    });
  return {
    series,
    opts: { title: `FID (N = ${r.config.n}) against NFE`, xLabel: 'NFE', yLabel: 'FID', logY: true },
  };
}

/** FID (quick, N = evalN) against fine-tuning CPU minutes for each student (paper Fig. 1's time axis). */
export function fidVsTimeChart(r: MainResults): ChartSpec {
  const series: Series[] = r.students.flatMap((s) =>
    [...new Set(s.evals.map((e) => e.nfe))].map((nfe) => {
      const pts = s.evals.filter((e) => e.nfe === nfe);
      return { name: `${s.name}, NFE ${nfe}`, x: pts.map((e) => e.seconds / 60), y: pts.map((e) => e.fid) };
    }),
  );
  return {
    series: series.filter((s) => s.x.length > 0),
    opts: {
      title: `FID (N = ${r.config.evalN}) against fine-tuning time`,
      xLabel: 'CPU minutes',
      yLabel: 'FID',
      logY: true,
    },
  };
}
