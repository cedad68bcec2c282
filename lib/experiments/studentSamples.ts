import { edmImageSchedule } from '../diffusion/sampleImages';
import type { ScheduleConfig } from '../diffusion/schedules';
import { evaluateImages, type SampleMetrics } from '../eval/evaluate';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { pixelsFid } from '../eval/quickFid';
import { displayFigure } from '../plot/display';
import { saveRasterFigure } from '../plot/figure';
import { imageGridPng } from '../plot/imageGrid';
import { type ImageModelSampler, openImageModel } from './imageModelSampler';

/** A model's sampler: a distilled model's own (as it was trained), or a teacher solver at an NFE. */
export interface SamplerChoice {
  /** Model directory or shipped name. */
  model: string;
  nfe: number;
  /** For teachers: the solver (a distilled model always samples as it was trained). */
  solver?: string;
  afs?: boolean;
  /** For teachers: the grid (default EDM's sampling range, ρ = 7, t ∈ [0.002, 80]). */
  schedule?: ScheduleConfig;
}

/** The model a choice names, as one sampler (a distilled model samples as it was trained: lib/experiments/imageModelSampler). */
function openChoice(choice: SamplerChoice): ImageModelSampler {
  return openImageModel(choice.model, {
    nfe: choice.nfe,
    teacherSampling: () => ({
      solver: choice.solver ?? 'euler',
      nfe: choice.nfe,
      afs: choice.afs ?? false,
      threshold: false,
      schedule: choice.schedule ?? edmImageSchedule,
    }),
  });
}

/** FID (quick: no PRDC) of n samples with a fixed seed, for experiment curves and tables. */
export async function samplerFid(choice: SamplerChoice, n: number, seed = 0): Promise<number> {
  const s = openChoice(choice);
  const f = loadFeatureNet();
  try {
    return await pixelsFid(await s.sample(n, seed), n, f.net, f.sha256);
  } finally {
    f.net.dispose();
    s.dispose();
  }
}

/** FID with precision, recall, density, coverage and classifier confidence (lib/eval) of n samples. */
export async function samplerMetrics(
  choice: SamplerChoice,
  n: number,
  seed = 0,
): Promise<SampleMetrics & { seconds: number }> {
  const s = openChoice(choice);
  const f = loadFeatureNet();
  try {
    const t0 = performance.now();
    const pixels = await s.sample(n, seed);
    const seconds = (performance.now() - t0) / 1000;
    return { ...(await evaluateImages(pixels, n, f.net, f.sha256)), seconds };
  } finally {
    f.net.dispose();
    s.dispose();
  }
}

/** A grid of samples saved as figures/<name>.png and shown inline (sample grids are raster: PNG only). */
export async function showSampleGrid(
  name: string,
  choice: SamplerChoice,
  n = 64,
  seed = 1,
  alt = name,
): Promise<Uint8Array> {
  const s = openChoice(choice);
  try {
    const pixels = await s.sample(n, seed);
    const png = imageGridPng(pixels, n, s.shape, Math.ceil(Math.sqrt(n)));
    saveRasterFigure(name, png, alt);
    displayFigure({ png, alt });
    return png;
  } finally {
    s.dispose();
  }
}
