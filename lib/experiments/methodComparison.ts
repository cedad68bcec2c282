import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { edmImageSchedule, type ImageSampling } from '../diffusion/sampleImages';
import { readScheduleFile, scheduleForSampling } from '../diffusion/scheduleFile';
import { solverByName } from '../diffusion/solvers/registry';
import { evaluateImages, type SampleMetrics } from '../eval/evaluate';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { readJsonFile } from '../models/weightsIO';
import type { ChartSpec, Series } from '../plot/lineChart';
import { repoRoot } from '../runtime/paths';
import { scale } from '../runtime/profile';
import { openImageModel } from './imageModelSampler';

/**
 * Paper Fig. 1 and Table 2 at this scale: SFD against the solver-based methods (no training, or a short search
 * or predictor fit) and the distillation methods (PD, CD), every one from the shipped teacher, on one machine,
 * scored the same way, plotted against the CPU minutes each spent beyond the teacher.
 */

/** One CIFAR-10 number of the SFD paper (Table 2; Fig. 1 readings where the table has no row). */
export interface PaperPoint {
  fid: number;
  /** Fine-tuning A100 hours (0 for solvers). */
  hours: number;
  /** Where the number comes from when not Table 2. */
  source?: string;
}

/** How a compared method samples: a teacher solver (name, NFE, AFS, optional schedule file) or a model dir. */
export type MethodSampler =
  | { kind: 'solver'; solver: string; nfe: number; afs: boolean; scheduleFile?: string }
  | { kind: 'model'; dir: string; nfe: number };

export interface ComparedMethod {
  /** The row's name, e.g. "SFD", "PD", "GITS (iPNDM)". */
  method: string;
  family: 'solver' | 'distillation';
  nfe: number;
  sampler: MethodSampler;
  /** CPU seconds the method spends beyond the teacher: 0 for solvers, the search or training time otherwise. */
  trainSeconds: number;
  /** Quick FID (N = 500 against MNIST test) over training, at this row's NFE (PD: each round's own NFE). */
  curve: { seconds: number; fid: number; nfe: number }[];
  /** FID and PRDC at N = 5000 (seed 0) recorded in the model's or teacher's card, when measured. */
  shipped: Partial<SampleMetrics> | null;
  paper: PaperPoint | null;
}

/** The paper's CIFAR-10 rows that have no counterpart here (named in the table with their numbers only). */
export const PAPER_ONLY = [
  { method: 'Guided PD', nfe: 1, fid: 8.34, hours: 146, why: 'made for guided (conditional) teachers' },
  { method: 'Guided PD', nfe: 2, fid: 4.48, hours: 128, why: 'made for guided (conditional) teachers' },
  { method: 'Guided PD', nfe: 4, fid: 3.18, hours: 119, why: 'made for guided (conditional) teachers' },
  { method: 'CTM', nfe: 1, fid: 1.98, hours: 83, why: 'an adversarial loss and a discriminator' },
  { method: 'CTM w/o GAN loss', nfe: 1, fid: 5, hours: 60, why: 'FID "> 5" in the paper' },
] as const;

const TEACHER = 'mnist';
const teacherDir = () => join(repoRoot(), 'data', 'teacher-mnist');
const studentDir = (name: string) => join(repoRoot(), 'data', 'students', name);
const baselineDir = (name: string) => join(repoRoot(), 'data', 'baselines', name);

/** What the shipped baselines are and the command that makes them (scripts/ship-baselines.sh NAME). */
export const SHIPPED_BASELINES = [
  'sfd-nfe2-reference',
  'amed-ipndm-nfe5',
  'gits-ipndm-nfe5',
  'pd-nfe2',
  'cd',
  'amed-ipndm-nfe4',
  'gits-ipndm-nfe4',
  'gits-ipndm-nfe5-l2',
  'sfd-gits-nfe2',
  'sfd-gits-nfe3',
] as const;

interface CardLike {
  wallSeconds?: number;
  evals?: { nfe: number; fid: number; seconds: number }[];
  evaluation?: Record<string, unknown>[];
  sfd?: unknown;
  [key: string]: unknown;
}

const readModelCard = (dir: string) =>
  readJsonFile(join(dir, 'model.json'), `the model.json of ${dir}`) as CardLike;

const METRIC_KEYS = ['fid', 'precision', 'recall', 'density', 'coverage', 'meanConfidence'] as const;

function metricsOf(e: Record<string, unknown> | undefined): Partial<SampleMetrics> | null {
  if (!e) return null;
  const out: Record<string, number> = {};
  for (const k of METRIC_KEYS) if (typeof e[k] === 'number') out[k] = e[k] as number;
  return out as Partial<SampleMetrics>;
}

/** The N = 5000, seed-0 evaluation recorded in a card that matches `want` (the newest when several). */
function recorded(card: CardLike, want: (e: Record<string, unknown>) => boolean) {
  const hits = (card.evaluation ?? []).filter(
    (e) =>
      e.n === 5000 &&
      e.seed === 0 &&
      (e.reference ?? 'test') === 'test' &&
      typeof e.fid === 'number' &&
      want(e),
  );
  return metricsOf(hits.at(-1));
}

/** A teacher-solver row: N = 5000 numbers from the teacher's card (scripts/evaluate-teacher.sh, ship-baselines). */
function solverRow(
  method: string,
  solver: string,
  nfe: number,
  afs: boolean,
  paper: PaperPoint | null,
  teacherCard: CardLike,
): ComparedMethod {
  const name = solverByName(solver).name;
  return {
    method,
    family: 'solver',
    nfe,
    sampler: { kind: 'solver', solver: name, nfe, afs },
    trainSeconds: 0,
    curve: [],
    shipped: recorded(teacherCard, (e) => {
      const s = e.schedule as { kind?: string; rho?: number } | undefined;
      return (
        e.solver === name &&
        e.nfe === nfe &&
        e.afs === afs &&
        !e.threshold &&
        s?.kind === 'polynomial' &&
        s.rho === edmImageSchedule.rho
      );
    }),
    paper,
  };
}

/** A trained model's row: its training time, its quick-FID curve at `nfe` and its N = 5000 record. */
function modelRow(
  method: string,
  dir: string,
  nfe: number,
  paper: PaperPoint | null,
  opts: { extraSeconds?: number; curveAllNfes?: boolean } = {},
): ComparedMethod {
  const card = readModelCard(dir);
  const curve = (card.evals ?? [])
    .filter((e) => opts.curveAllNfes || e.nfe === nfe)
    .map((e) => ({ seconds: e.seconds + (opts.extraSeconds ?? 0), fid: e.fid, nfe: e.nfe }));
  return {
    method,
    family: 'distillation',
    nfe,
    sampler: { kind: 'model', dir, nfe },
    trainSeconds: Number(card.wallSeconds ?? 0) + (opts.extraSeconds ?? 0),
    curve,
    shipped: recorded(card, (e) => e.nfe === nfe),
    paper,
  };
}

/** The SFD NFE-2 student retrained in the same run as the baselines (scripts/ship-baselines.sh), for its time. */
export interface SfdReference {
  wallSeconds: number;
  shippedWallSeconds: number;
  /** Whether the retrained weights are bit-identical to the shipped student's. */
  sameWeights: boolean;
}

/** iPNDM on a shipped GITS schedule: its cost is the search's warm-up; N = 5000 numbers from the teacher's card. */
function gitsRow(path: string, teacherCard: CardLike, paper: PaperPoint | null): ComparedMethod {
  const file = readScheduleFile(path);
  const sigmas = JSON.stringify(file.sigmas);
  const metric = file.settings.metric;
  return {
    // the official metric is dev; another one is a variant, named
    method: metric === 'dev' ? 'GITS (iPNDM)' : `GITS (iPNDM, ${metric} metric)`,
    family: 'solver',
    nfe: file.settings.nfe,
    sampler: { kind: 'solver', solver: 'ipndm', nfe: file.settings.nfe, afs: false, scheduleFile: path },
    trainSeconds: Number(file.warmupSeconds ?? 0),
    curve: [],
    shipped: recorded(teacherCard, (e) => {
      const s = e.schedule as { method?: string; sigmas?: number[] } | undefined;
      return e.solver === 'ipndm' && s?.method === 'gits' && JSON.stringify(s.sigmas) === sigmas;
    }),
    paper,
  };
}

export interface ComparisonListing {
  methods: ComparedMethod[];
  /** Baselines not shipped yet, each with the command that makes it. */
  missing: { name: string; command: string }[];
  reference: SfdReference | null;
}

/**
 * Every method the comparison has, from the shipped files only (no sampling): the teacher's solvers at NFE 5
 * (and DDIM at 10, the paper's row, and iPNDM at 4), GITS and AMED-Plugin on iPNDM at NFE 5 and 4, PD at 2, CD at
 * 1 and 2, SFD at 2–5 (and at 2–3 on a GITS grid), SFD-v and two-stage SFD at 1.
 */
export function comparedMethods(): ComparisonListing {
  const t = readModelCard(teacherDir());
  const methods: ComparedMethod[] = [
    solverRow('DDIM', 'euler', 10, false, { fid: 15.69, hours: 0 }, t),
    solverRow('DDIM', 'euler', 5, false, null, t),
    solverRow('DPM-Solver++(3M)', 'dpmpp-3m', 5, false, { fid: 24.97, hours: 0 }, t),
    solverRow('UniPC', 'unipc', 5, false, { fid: 24, hours: 0, source: 'Fig. 1, read off the plot' }, t),
    solverRow('DEIS', 'deis', 5, false, { fid: 14.4, hours: 0, source: 'Fig. 1, read off the plot' }, t),
    solverRow('iPNDM', 'ipndm', 5, false, { fid: 13.6, hours: 0, source: 'Fig. 1, read off the plot' }, t),
    solverRow('iPNDM + AFS', 'ipndm', 5, true, null, t),
    solverRow('iPNDM', 'ipndm', 4, false, null, t),
  ];
  const missing: ComparisonListing['missing'] = [];
  const refPath = baselineDir('sfd-nfe2-reference.json');
  const reference = existsSync(refPath)
    ? (readJsonFile(refPath, 'the SFD time reference') as unknown as SfdReference)
    : null;
  if (!reference)
    missing.push({ name: 'sfd-nfe2-reference', command: 'scripts/ship-baselines.sh sfd-nfe2-reference' });
  const need = (name: string, path: string) => {
    if (existsSync(path)) return true;
    missing.push({ name, command: `scripts/ship-baselines.sh ${name}` });
    return false;
  };
  // GITS and AMED-Plugin at NFE 5 (Table 2) and 4 (Fig. 1; AMED without AFS, which an even NFE needs)
  const gitsPaper: Record<number, PaperPoint> = {
    5: { fid: 8.38, hours: 0.01, source: 'Table 2: < 0.01 h' },
    4: { fid: 10.1, hours: 0.01, source: 'Fig. 1, read off the plot' },
  };
  const amedPaper: Record<number, PaperPoint> = {
    5: { fid: 6.61, hours: 0.08 },
    4: { fid: 10.5, hours: 0.08, source: 'Fig. 1, read off the plot' },
  };
  for (const nfe of [5, 4]) {
    const gits = baselineDir(`gits-ipndm-nfe${nfe}.json`);
    if (need(`gits-ipndm-nfe${nfe}`, gits)) methods.push(gitsRow(gits, t, gitsPaper[nfe]));
    // the l2 metric, which beats dev on the 2-D mixtures (README, "The methods SFD is compared with")
    const l2 = baselineDir(`gits-ipndm-nfe${nfe}-l2.json`);
    if (nfe === 5 && need(`gits-ipndm-nfe${nfe}-l2`, l2)) methods.push(gitsRow(l2, t, null));
    const amed = baselineDir(`amed-ipndm-nfe${nfe}`);
    if (need(`amed-ipndm-nfe${nfe}`, join(amed, 'model.json')))
      methods.push({ ...modelRow('AMED-Plugin (iPNDM)', amed, nfe, amedPaper[nfe]), family: 'solver' });
  }
  const pd = baselineDir('pd-nfe2');
  if (need('pd-nfe2', join(pd, 'model.json')))
    methods.push(modelRow('PD', pd, 2, { fid: 4.51, hours: 171 }, { curveAllNfes: true }));
  const cd = baselineDir('cd');
  if (need('cd', join(cd, 'model.json')))
    for (const [nfe, fid] of [
      [1, 3.55],
      [2, 2.93],
    ] as const)
      methods.push(modelRow('CD', cd, nfe, { fid, hours: 1156 }));
  const sfdPaper: Record<number, PaperPoint> = {
    2: { fid: 4.53, hours: 0.64 },
    3: { fid: 3.58, hours: 0.92 },
    4: { fid: 3.24, hours: 1.17 },
    5: { fid: 3.06, hours: 1.42 },
  };
  for (const nfe of [2, 3, 4, 5])
    methods.push(modelRow('SFD', studentDir(`sfd-nfe${nfe}`), nfe, sfdPaper[nfe]));
  for (const nfe of [2, 3]) {
    const dir = baselineDir(`sfd-gits-nfe${nfe}`);
    if (need(`sfd-gits-nfe${nfe}`, join(dir, 'model.json')))
      methods.push(modelRow('SFD, GITS grid', dir, nfe, null));
  }
  const vPaper: Record<number, number> = { 2: 4.28, 3: 3.5, 4: 3.18, 5: 2.95 };
  for (const nfe of [2, 3, 4, 5])
    methods.push(
      modelRow('SFD-v', studentDir('sfd-v'), nfe, {
        fid: vPaper[nfe],
        hours: 4.26,
        source: 'Table 2: 4.26 h for all four NFEs',
      }),
    );
  const vSeconds = Number(readModelCard(studentDir('sfd-v')).wallSeconds ?? 0);
  methods.push(
    modelRow(
      'SFD two-stage',
      studentDir('sfd-two-stage-nfe1'),
      1,
      { fid: 5.83, hours: 4.88 },
      { extraSeconds: vSeconds },
    ),
  );
  return { methods, missing, reference };
}

export interface ComparisonConfig {
  /** Samples per method scored here (FID + PRDC, seed 0, against MNIST test). */
  n: number;
}

export const comparisonDefaults: ComparisonConfig = { n: scale(1000, 40) };

export interface ComparisonRow extends ComparedMethod {
  /** Scored here at N = config.n. */
  metrics: SampleMetrics;
  sampleSeconds: number;
}

/** The sampling a solver row asks for (its schedule file checked against the teacher). */
function solverSampling(s: Extract<MethodSampler, { kind: 'solver' }>, teacherSha256: string): ImageSampling {
  const cfg: ImageSampling = {
    solver: s.solver,
    nfe: s.nfe,
    afs: s.afs,
    threshold: false,
    schedule: edmImageSchedule,
  };
  if (s.scheduleFile)
    cfg.schedule = scheduleForSampling(s.scheduleFile, {
      ...cfg,
      teacherSha256,
    });
  return cfg;
}

/** Scores every listed method here: N samples (seed 0) each, FID and PRDC against MNIST test. */
export async function methodComparison(
  overrides: Partial<ComparisonConfig> = {},
  onRow?: (row: ComparisonRow, done: number, total: number) => void,
): Promise<{
  config: ComparisonConfig;
  rows: ComparisonRow[];
  missing: ComparisonListing['missing'];
  reference: SfdReference | null;
}> {
  const config = { ...comparisonDefaults, ...overrides };
  const { methods, missing, reference } = comparedMethods();
  const fnet = loadFeatureNet();
  const rows: ComparisonRow[] = [];
  try {
    for (const m of methods) {
      const s = m.sampler;
      const model =
        s.kind === 'solver'
          ? openImageModel(TEACHER, { nfe: s.nfe, teacherSampling: (sha) => solverSampling(s, sha) })
          : openImageModel(s.dir, { nfe: s.nfe });
      try {
        const t0 = performance.now();
        const pixels = await model.sample(config.n, 0);
        const sampleSeconds = (performance.now() - t0) / 1000;
        const metrics = await evaluateImages(pixels, config.n, fnet.net, fnet.sha256);
        rows.push({ ...m, metrics, sampleSeconds });
        onRow?.(rows[rows.length - 1], rows.length, methods.length);
      } finally {
        model.dispose();
      }
    }
  } finally {
    fnet.net.dispose();
  }
  return { config, rows, missing, reference };
}

export type MethodComparison = Awaited<ReturnType<typeof methodComparison>>;

const round = (x: number | undefined, d: number) => (x === undefined ? '–' : Number(x.toFixed(d)));
const minutes = (s: number) => (s === 0 ? 0 : Number((s / 60).toFixed(s < 60 ? 2 : 1)));

/** Table 2 at this scale: NFE, FID and PRDC here (N = config.n) and shipped (N = 5000), CPU minutes, the paper's row. */
export function comparisonTable(r: MethodComparison): Record<string, string | number>[] {
  const n = r.config.n;
  const rows: Record<string, string | number>[] = r.rows.map((row) => ({
    method: row.method,
    NFE: row.nfe,
    [`FID (N ${n})`]: round(row.metrics.fid, 2),
    [`precision (N ${n})`]: round(row.metrics.precision, 3),
    [`recall (N ${n})`]: round(row.metrics.recall, 3),
    'FID (N 5000)': round(row.shipped?.fid, 2),
    'precision (N 5000)': round(row.shipped?.precision, 3),
    'recall (N 5000)': round(row.shipped?.recall, 3),
    'density (N 5000)': round(row.shipped?.density, 3),
    'coverage (N 5000)': round(row.shipped?.coverage, 3),
    'CPU min': minutes(row.trainSeconds),
    'paper FID (CIFAR-10)': row.paper ? row.paper.fid : '–',
    'paper A100 h': row.paper ? row.paper.hours : '–',
  }));
  for (const p of PAPER_ONLY)
    rows.push({
      method: `${p.method} (paper only: ${p.why})`,
      NFE: p.nfe,
      [`FID (N ${n})`]: '–',
      [`precision (N ${n})`]: '–',
      [`recall (N ${n})`]: '–',
      'FID (N 5000)': '–',
      'precision (N 5000)': '–',
      'recall (N 5000)': '–',
      'density (N 5000)': '–',
      'coverage (N 5000)': '–',
      'CPU min': '–',
      'paper FID (CIFAR-10)': p.method === 'CTM w/o GAN loss' ? '> 5' : p.fid,
      'paper A100 h': p.hours,
    });
  return rows;
}

/** The display shift of the time axis (the paper adds 1 A100 hour so that 0 shows on a log axis). */
export const TIME_SHIFT_MINUTES = 1;

/** Training runs drawn as their quick-FID curve: PD and CD (the budgeted baselines) and SFD at NFE 2. */
const CURVES: readonly [string, number][] = [
  ['SFD', 2],
  ['PD', 2],
  ['CD', 1],
  ['CD', 2],
];

/**
 * Paper Fig. 1 at this scale: FID against fine-tuning CPU minutes (+1, log axis). Each method is a series of its
 * final points (N = config.n) labelled with its NFEs; PD, CD and SFD-2 also as their training curves (quick FID,
 * N = 500, dashed); solvers sit at 0 minutes, GITS and AMED at their search or fitting time.
 */
export function fidVsCostChart(r: MethodComparison): ChartSpec {
  const x = (seconds: number) => seconds / 60 + TIME_SHIFT_MINUTES;
  const series: Series[] = [];
  for (const [method, nfe] of CURVES) {
    const row = r.rows.find((q) => q.method === method && q.nfe === nfe);
    if (!row?.curve.length) continue;
    const nfes = [...new Set(row.curve.map((p) => p.nfe))];
    series.push({
      name: `${method} training, NFE ${nfes.join(' → ')} (FID N 500)`,
      x: row.curve.map((p) => x(p.seconds)),
      y: row.curve.map((p) => p.fid),
      dashed: true,
    });
  }
  const groups = new Map<string, ComparisonRow[]>();
  for (const row of r.rows) {
    const key =
      row.family === 'solver' && row.method !== 'DDIM' ? `${row.method}, NFE ${row.nfe}` : row.method;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const [name, rows] of groups)
    series.push({
      name:
        rows.length > 1
          ? `${name}, NFE ${rows.map((q) => q.nfe).join(', ')}`
          : rows[0].family === 'solver'
            ? name
            : `${name}, NFE ${rows[0].nfe}`,
      x: rows.map((q) => x(q.trainSeconds)),
      y: rows.map((q) => q.metrics.fid),
    });
  return {
    series,
    opts: {
      title: `FID (N = ${r.config.n}) against fine-tuning CPU minutes, every method from one MNIST teacher`,
      xLabel: `fine-tuning CPU minutes + ${TIME_SHIFT_MINUTES} (log)`,
      yLabel: 'FID',
      logX: true,
      logY: true,
    },
  };
}

/** The paper's Fig. 1 from its own CIFAR-10 numbers (A100 hours + 1, log axis), to set beside ours. */
export function paperFigureChart(r: MethodComparison): ChartSpec {
  const byMethod = new Map<string, { hours: number; fid: number }[]>();
  for (const row of r.rows)
    if (row.paper) byMethod.set(row.method, [...(byMethod.get(row.method) ?? []), row.paper]);
  for (const p of PAPER_ONLY)
    if (p.method !== 'CTM w/o GAN loss') byMethod.set(p.method, [...(byMethod.get(p.method) ?? []), p]);
  return {
    series: [...byMethod].map(([name, pts]) => ({
      name,
      x: pts.map((p) => p.hours + 1),
      y: pts.map((p) => p.fid),
    })),
    opts: {
      title: 'The paper: FID on CIFAR-10 against fine-tuning A100 hours',
      xLabel: 'fine-tuning A100 hours + 1 (log)',
      yLabel: 'FID',
      logX: true,
      logY: true,
    },
  };
}

export interface ComparisonFindings {
  /** SFD at NFE 2: its card's training minutes, and those of its retraining in the baselines' run (if made). */
  sfd2: { fid: number; quickFid: number; minutes: number; sameRunMinutes: number | null };
  /** For PD and CD: when their quick-FID curve first reached SFD-2's final quick FID, or the best they reached. */
  distillation: {
    method: string;
    minutes: number;
    reachedAt: number | null;
    bestQuickFid: number;
    fid: number;
    nfe: number;
    /** reachedAt (or the whole budget, a lower bound) over SFD-2's minutes (same-run minutes when measured). */
    costRatio: number;
    /** The paper's training hours of this row over SFD-2's (CIFAR-10, Table 2). */
    paperRatio: number | null;
  }[];
  /**
   * GITS and AMED-Plugin against their base solver, and SFD on a GITS grid against SFD on ρ = 7, at each NFE
   * both have (FID here; lower is better).
   */
  solverGains: { method: string; nfe: number; fid: number; base: string; baseFid: number; beats: boolean }[];
}

/** The closing numbers: the paper's "1000×" claim at this scale and the NFE-5 solver gains, from `r` alone. */
export function comparisonFindings(r: MethodComparison): ComparisonFindings {
  const find = (method: string, nfe: number) => r.rows.find((q) => q.method === method && q.nfe === nfe);
  const sfd = find('SFD', 2);
  if (!sfd) throw new Error('the comparison needs the SFD NFE-2 student');
  const quick = sfd.curve.at(-1)?.fid ?? sfd.metrics.fid;
  const sameRunMinutes = r.reference ? r.reference.wallSeconds / 60 : null;
  const sfdMinutes = sameRunMinutes ?? sfd.trainSeconds / 60;
  const distillation: ComparisonFindings['distillation'] = [];
  for (const [method, nfe] of [
    ['PD', 2],
    ['CD', 1],
    ['CD', 2],
  ] as const) {
    const row = find(method, nfe);
    if (!row) continue;
    const pts = row.curve.filter((p) => p.nfe === nfe);
    const hit = pts.find((p) => p.fid <= quick);
    const best = Math.min(...pts.map((p) => p.fid));
    const mins = row.trainSeconds / 60;
    distillation.push({
      method,
      nfe,
      minutes: mins,
      reachedAt: hit ? hit.seconds / 60 : null,
      bestQuickFid: best,
      fid: row.metrics.fid,
      costRatio: (hit ? hit.seconds / 60 : mins) / sfdMinutes,
      paperRatio: row.paper && sfd.paper ? row.paper.hours / sfd.paper.hours : null,
    });
  }
  const solverGains: ComparisonFindings['solverGains'] = [];
  const gain = (method: string, base: string) => {
    for (const m of r.rows.filter((q) => q.method === method)) {
      const b = r.rows.find((q) => q.method === base && q.nfe === m.nfe);
      if (b)
        solverGains.push({
          method,
          nfe: m.nfe,
          fid: m.metrics.fid,
          base,
          baseFid: b.metrics.fid,
          beats: m.metrics.fid < b.metrics.fid,
        });
    }
  };
  gain('GITS (iPNDM)', 'iPNDM');
  gain('GITS (iPNDM, l2 metric)', 'iPNDM');
  gain('AMED-Plugin (iPNDM)', 'iPNDM + AFS');
  gain('AMED-Plugin (iPNDM)', 'iPNDM');
  gain('SFD, GITS grid', 'SFD');
  return {
    sfd2: { fid: sfd.metrics.fid, quickFid: quick, minutes: sfd.trainSeconds / 60, sameRunMinutes },
    distillation,
    solverGains,
  };
}

/** The findings in plain sentences (the notebook's closing cell prints them). */
export function findingsText(f: ComparisonFindings, n: number): string[] {
  const same =
    f.sfd2.sameRunMinutes === null
      ? ' (not retrained beside the baselines: the ratios below use its card’s time)'
      : `; retrained in the same run as the baselines, it took ${f.sfd2.sameRunMinutes.toFixed(1)}, the time the ratios below use`;
  const lines = [
    `SFD, NFE 2: FID ${f.sfd2.fid.toFixed(2)} (N ${n}) after ${f.sfd2.minutes.toFixed(1)} CPU minutes${same}; its training curve ends at quick FID ${f.sfd2.quickFid.toFixed(2)} (N 500).`,
  ];
  for (const d of f.distillation) {
    const what = `${d.method}, NFE ${d.nfe}`;
    const paper =
      d.paperRatio === null ? '' : ` (the paper, CIFAR-10: ${Math.round(d.paperRatio)}× SFD-2's A100 hours)`;
    lines.push(
      d.reachedAt !== null
        ? `${what}: reached SFD-2's quick FID after ${d.reachedAt.toFixed(1)} CPU minutes, ${d.costRatio.toFixed(1)}× SFD-2's time${paper}.`
        : `${what}: did not reach SFD-2's quick FID within its ${d.minutes.toFixed(1)} CPU minutes (best quick FID ${d.bestQuickFid.toFixed(2)}; FID ${d.fid.toFixed(2)} at N ${n}), so it needs more than ${d.costRatio.toFixed(1)}× SFD-2's time here${paper}.`,
    );
  }
  for (const g of f.solverGains)
    lines.push(
      `${g.method} at NFE ${g.nfe}: FID ${g.fid.toFixed(2)} against ${g.base}'s ${g.baseFid.toFixed(2)}: ${g.beats ? 'better' : 'not better'}${g.method === 'SFD, GITS grid' ? ' (the paper does not try it)' : g.beats ? ', as in the paper' : ', unlike the paper'}.`,
    );
  return lines;
}

/** The training settings of a model card, whichever method wrote it (SFD, PD, CD, AMED). */
function trainingOf(card: CardLike): { iterations: number | null; batch: number | null } {
  const section = (card.sfd ?? card.pd ?? card.cd ?? card.amed) as
    | { config?: Record<string, unknown> }
    | undefined;
  const c = section?.config ?? {};
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return { iterations: num(card.iterations) ?? num(c.iterations), batch: num(c.batch) };
}

/** The file a method's training or search made (a model dir or a schedule file; '' for a plain solver). */
const sourceOf = (m: ComparedMethod) =>
  m.sampler.kind === 'model' ? m.sampler.dir : (m.sampler.scheduleFile ?? '');

/** What each method's time bought: iterations and images (or warm-up trajectories), CPU minutes, the paper's hours. */
export function trainingBudgets(l: ComparisonListing): Record<string, string | number>[] {
  const seen = new Set<string>();
  const rows: Record<string, string | number>[] = [];
  for (const m of l.methods) {
    if (m.trainSeconds === 0) continue;
    const s = m.sampler;
    const source = sourceOf(m);
    if (seen.has(source)) continue;
    seen.add(source);
    let work = '–';
    if (s.kind === 'model') {
      const t = trainingOf(readModelCard(s.dir));
      if (t.iterations !== null && t.batch !== null)
        work = `${t.iterations} iterations of ${t.batch} (${t.iterations * t.batch} images)`;
    } else if (s.scheduleFile) {
      const f = readScheduleFile(s.scheduleFile);
      work = `${f.settings.warmup.n} warm-up trajectories (${f.warmupTeacherCalls} teacher calls)`;
    }
    const nfes = l.methods.filter((q) => sourceOf(q) === source).map((q) => q.nfe);
    rows.push({
      method: m.method,
      NFE: nfes.join(', '),
      training: work,
      'CPU min': minutes(m.trainSeconds),
      'paper A100 h': m.paper ? m.paper.hours : '–',
    });
  }
  return rows;
}
