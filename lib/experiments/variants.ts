import type { ChartSpec, Series } from '../plot/lineChart';
import type { SfdConfig } from '../sfd/config';
import type { SfdEvalPoint } from '../sfd/train';
import { distilled } from './distilled';

/** One run of an ablation: a name, its SFD config, and (stage 2) the stage-1 student it distils. */
export interface Variant {
  name: string;
  cfg: SfdConfig;
  stage?: 1 | 2;
  /** Stage 2: the stage-1 variant's name (trained first, in the same list or earlier). */
  from?: string;
}

export interface VariantResult {
  name: string;
  cfg: SfdConfig;
  stage: 1 | 2;
  dir: string;
  seconds: number;
  /** FID at each evaluation (quick FID, fixed seed), per NFE. */
  evals: SfdEvalPoint[];
}

/**
 * Trains (or reuses from the cache) each variant in order with FID curves every `evalEvery` iterations:
 * the runs behind the ablation figures. A stage-2 variant distils the named earlier one.
 */
export async function runVariants(
  variants: Variant[],
  opts: { teacher?: string; evalEvery: number; evalN: number },
): Promise<VariantResult[]> {
  const done = new Map<string, VariantResult>();
  for (const v of variants) {
    const from = v.from ? done.get(v.from) : undefined;
    if (v.stage === 2 && !from)
      throw new RangeError(`variant '${v.name}': stage 2 needs an earlier stage-1 variant (from)`);
    const st = await distilled(v.cfg, {
      teacher: from ? from.dir : (opts.teacher ?? 'mnist'),
      stage: v.stage,
      label: v.name,
      evalEvery: opts.evalEvery,
      evalN: opts.evalN,
    });
    done.set(v.name, {
      name: v.name,
      cfg: st.card.sfd.config,
      stage: v.stage ?? 1,
      dir: st.dir,
      seconds: st.seconds,
      evals: st.card.evals,
    });
  }
  return [...done.values()];
}

/** FID against iterations, one line per (variant, NFE). */
export function fidCurveChart(results: VariantResult[], title: string, nfes?: number[]): ChartSpec {
  const series: Series[] = [];
  for (const r of results) {
    const byNfe = [...new Set(r.evals.map((e) => e.nfe))].filter((n) => !nfes || nfes.includes(n));
    for (const nfe of byNfe) {
      const pts = r.evals.filter((e) => e.nfe === nfe);
      series.push({
        name: byNfe.length > 1 || (nfes && nfes.length > 1) ? `${r.name}, NFE ${nfe}` : r.name,
        x: pts.map((e) => e.iteration),
        y: pts.map((e) => e.fid),
      });
    }
  }
  return { series, opts: { title, xLabel: 'iteration', yLabel: 'FID', logY: true } };
}

/** The last evaluation of each (variant, NFE) as table rows. */
export function finalFidRows(results: VariantResult[]): Record<string, string | number>[] {
  return results.flatMap((r) => {
    const nfes = [...new Set(r.evals.map((e) => e.nfe))];
    return nfes.map((nfe) => {
      const last = r.evals.filter((e) => e.nfe === nfe).pop();
      const first = r.evals.find((e) => e.nfe === nfe);
      return {
        variant: r.name,
        NFE: nfe,
        'FID at start': first ? Number(first.fid.toFixed(2)) : Number.NaN,
        'FID at end': last ? Number(last.fid.toFixed(2)) : Number.NaN,
        iterations: last?.iteration ?? 0,
        'CPU s': Math.round(r.seconds),
      };
    });
  });
}
