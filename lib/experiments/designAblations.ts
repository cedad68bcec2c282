import { scale } from '../runtime/profile';
import { type SfdConfig, sfdDefaults } from '../sfd/config';
import { runVariants, type Variant, type VariantResult } from './variants';

export interface DesignAblationConfig {
  teacher: string;
  nfe: number;
  iterations: number;
  batch: number;
  evalN: number;
  /** The K table: K values and NFEs, and its (shorter) runs. */
  ks: number[];
  kNfes: number[];
  kIterations: number;
}

export const designAblationDefaults: DesignAblationConfig = {
  teacher: 'mnist',
  nfe: 2,
  iterations: scale(200, 2),
  batch: scale(16, 2),
  evalN: scale(1000, 20),
  ks: scale([1, 2, 3, 4, 5, 6], [1, 4]),
  kNfes: scale([2, 3, 4, 5], [2]),
  kIterations: scale(50, 2),
};

/**
 * The paper's stepwise table, from a vanilla trajectory distillation to SFD, one change per row (the
 * order is ours; the spec names the factors — teacher solver, t_min, AFS, loss — but not the table's rows).
 */
export function stepwiseVariants(c: DesignAblationConfig = designAblationDefaults): Variant[] {
  const base: SfdConfig = { ...sfdDefaults, nfes: [c.nfe], iterations: c.iterations, batch: c.batch };
  const vanilla: SfdConfig = {
    ...base,
    teacherSolver: 'euler',
    teacherThreshold: false,
    schedule: { ...base.schedule, tMin: 0.002 },
    afs: false,
    loss: 'l2',
  };
  const b = { ...vanilla, teacherSolver: 'dpmpp-3m', teacherThreshold: true };
  const cc = { ...b, schedule: { ...b.schedule, tMin: 0.006 } };
  const d = { ...cc, afs: true };
  const e = { ...d, loss: 'l1' as const };
  return [
    { name: 'vanilla: Euler teacher, t_min 0.002, no AFS, L2', cfg: vanilla },
    { name: '+ DPM-Solver++(3M) teacher', cfg: b },
    { name: '+ t_min 0.006', cfg: cc },
    { name: '+ AFS', cfg: d },
    { name: '+ L1 (= SFD)', cfg: e },
  ];
}

export async function stepwiseAblation(
  overrides: Partial<DesignAblationConfig> = {},
): Promise<VariantResult[]> {
  const c = { ...designAblationDefaults, ...overrides };
  return runVariants(stepwiseVariants(c), { teacher: c.teacher, evalEvery: c.iterations, evalN: c.evalN });
}

export interface KTableRow {
  k: number;
  nfe: number;
  fid: number;
  cpuSeconds: number;
}

/** The paper's K table: FID and CPU time of SFD for each K (teacher steps per student step) at each NFE. */
export async function kTable(overrides: Partial<DesignAblationConfig> = {}): Promise<KTableRow[]> {
  const c = { ...designAblationDefaults, ...overrides };
  const variants: Variant[] = c.kNfes.flatMap((nfe) =>
    c.ks.map((k) => ({
      name: `K = ${k}, NFE ${nfe}`,
      cfg: { ...sfdDefaults, nfes: [nfe], k, iterations: c.kIterations, batch: c.batch },
    })),
  );
  const runs = await runVariants(variants, { teacher: c.teacher, evalEvery: c.kIterations, evalN: c.evalN });
  return runs.map((r) => ({
    k: r.cfg.k,
    nfe: r.cfg.nfes[0],
    fid: r.evals.at(-1)?.fid ?? Number.NaN,
    cpuSeconds: r.seconds,
  }));
}

/** The K table laid out as the paper's: one row per K, FID and CPU minutes per NFE. */
export function kTableRows(rows: KTableRow[]): Record<string, string | number>[] {
  const ks = [...new Set(rows.map((r) => r.k))];
  const nfes = [...new Set(rows.map((r) => r.nfe))];
  return ks.map((k) => {
    const out: Record<string, string | number> = { K: k };
    for (const nfe of nfes) {
      const r = rows.find((x) => x.k === k && x.nfe === nfe);
      out[`NFE ${nfe}: FID`] = r ? Number(r.fid.toFixed(2)) : '–';
      out[`NFE ${nfe}: CPU min`] = r ? Number((r.cpuSeconds / 60).toFixed(1)) : '–';
    }
    return out;
  });
}
