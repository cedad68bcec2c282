import { loadImageTeacher } from '../models/teachers';
import type { ChartSpec } from '../plot/lineChart';
import { scale } from '../runtime/profile';
import { type SfdConfig, sfdDefaults, studentTimestamps } from '../sfd/config';
import { trajectoryDistance } from '../sfd/trajectoryDistance';
import { distilled } from './distilled';

export interface TimestampTransferConfig {
  teacher: string;
  /** Student NFE; with AFS its trainable steps are 1 … NFE (step 0 is the analytical first step). */
  nfe: number;
  /** The student steps to fine-tune, one student each (default: every trainable step). */
  steps: number[] | null;
  iterations: number;
  batch: number;
  /** Trajectories the distance is averaged over (held-out noise). */
  evalBatch: number;
  lr: number;
  seed: number;
}

export const timestampTransferDefaults: TimestampTransferConfig = {
  teacher: 'mnist',
  nfe: 4,
  steps: null,
  iterations: scale(200, 3),
  batch: scale(16, 2),
  evalBatch: scale(256, 8),
  lr: sfdDefaults.lr.lr,
  seed: 0,
};

export interface TimestampTransferRow {
  /** The fine-tuned student step (null: the undistilled student, i.e. the teacher run with Euler). */
  trainedStep: number | null;
  /** Its timestamp t_j (where the network is called). */
  trainedT: number | null;
  /** Teacher–student L2 distance at t_1 … t_{N−1}. */
  l2: number[];
  seconds: number;
}

export interface TimestampTransferResult {
  config: TimestampTransferConfig;
  /** Student timestamps t_1 … t_{N−1}. */
  ts: number[];
  rows: TimestampTransferRow[];
}

/**
 * Paper Fig. 2: students each fine-tuned at one student timestamp only, and the teacher–student L2 distance
 * at every timestamp of the trajectory before and after. The claim: fine-tuning one timestamp lowers the
 * error at the others too, even far ones.
 */
export async function timestampTransfer(
  overrides: Partial<TimestampTransferConfig> = {},
): Promise<TimestampTransferResult> {
  const c = { ...timestampTransferDefaults, ...overrides };
  const base: SfdConfig = {
    ...sfdDefaults,
    nfes: [c.nfe],
    iterations: c.iterations,
    batch: c.batch,
    seed: c.seed,
    lr: { ...sfdDefaults.lr, lr: c.lr },
  };
  const n = studentTimestamps(c.nfe, base.afs);
  const steps = c.steps ?? Array.from({ length: n - 2 }, (_, i) => i + 1);
  const teacher = loadImageTeacher(c.teacher);
  const measure = async (dir: string | null) => {
    const s = dir ? loadImageTeacher(dir) : null;
    const d = await trajectoryDistance(
      teacher.denoise,
      s ? s.denoise : teacher.denoise,
      { ...base, batch: c.evalBatch },
      teacher.shape,
    );
    s?.unet.dispose();
    return d;
  };
  try {
    const before = await measure(null);
    const rows: TimestampTransferRow[] = [{ trainedStep: null, trainedT: null, l2: before.l2, seconds: 0 }];
    const ts = [base.schedule.tMax, ...before.ts];
    for (const j of steps) {
      const st = await distilled(
        { ...base, onlySteps: [j] },
        { teacher: c.teacher, label: `step ${j} (t = ${ts[j].toFixed(3)})` },
      );
      rows.push({ trainedStep: j, trainedT: ts[j], l2: (await measure(st.dir)).l2, seconds: st.seconds });
    }
    return { config: c, ts: before.ts, rows };
  } finally {
    teacher.unet.dispose();
  }
}

/** Rows for a table: one per student, the distance at each timestamp and its change against before. */
export function timestampTransferTableRows(r: TimestampTransferResult): Record<string, string | number>[] {
  const before = r.rows[0].l2;
  return r.rows.map((row) => {
    const out: Record<string, string | number> = {
      student:
        row.trainedStep === null
          ? 'undistilled (Euler)'
          : `fine-tuned at t = ${row.trainedT?.toPrecision(3)}`,
    };
    r.ts.forEach((t, i) => {
      const pct =
        row.trainedStep === null ? '' : ` (${((100 * (row.l2[i] - before[i])) / before[i]).toFixed(0)} %)`;
      out[`t = ${t.toPrecision(3)}`] = `${row.l2[i].toFixed(2)}${pct}`;
    });
    return out;
  });
}

export function timestampTransferChart(r: TimestampTransferResult): ChartSpec {
  return {
    series: r.rows.map((row) => ({
      name: row.trainedStep === null ? 'undistilled' : `tuned at t=${row.trainedT?.toPrecision(3)}`,
      x: r.ts,
      y: row.l2,
      dashed: row.trainedStep === null,
    })),
    opts: {
      title: `Teacher–student L2 distance, NFE ${r.config.nfe} (one student per tuned timestamp)`,
      xLabel: 'timestamp t (student grid)',
      yLabel: 'mean L2 distance',
      logX: true,
      logY: true,
    },
  };
}

/**
 * What the measurement says about the paper's claim, as sentences computed from the result (so a rerun
 * never leaves stale prose): for each student, at how many of the other timestamps the distance fell.
 */
export function timestampTransferFindings(r: TimestampTransferResult): string[] {
  const before = r.rows[0].l2;
  return r.rows.slice(1).map((row) => {
    // step j calls the network at t_j and lands on t_{j+1} = ts[j]; ts[0] = t_1 is reached by the AFS step,
    // which no training changes
    const j = row.trainedStep as number;
    const others = r.ts.map((_, i) => i).filter((i) => i !== j && i > 0);
    const lower = others.filter((i) => row.l2[i] < before[i]);
    const at = (i: number) =>
      `${((100 * (row.l2[i] - before[i])) / before[i]).toFixed(0)} % at t = ${r.ts[i].toPrecision(3)}`;
    return `Tuned at t = ${row.trainedT?.toPrecision(3)}: ${at(j)} (where its step lands), lower at ${lower.length} of the ${others.length} other timestamps (${others.map(at).join(', ')}).`;
  });
}
