import { edmImageSchedule, sampleImages } from '../diffusion/sampleImages';
import type { ScheduleConfig } from '../diffusion/schedules';
import { evaluateImages, type SampleMetrics } from '../eval/evaluate';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { quickFid } from '../eval/quickFid';
import { studentSfd } from '../models/card';
import { loadImageTeacher } from '../models/teachers';
import { displayFigure } from '../plot/display';
import { saveRasterFigure } from '../plot/figure';
import { imageGridPng } from '../plot/imageGrid';
import { studentSampler } from '../sfd/sampleStudent';

/** A model's sampler: a student's own (Euler on its grid), or a teacher solver at an NFE. */
export interface SamplerChoice {
  /** Model directory or shipped name. */
  model: string;
  nfe: number;
  /** For teachers: the solver (a student always samples with Euler as trained). */
  solver?: string;
  afs?: boolean;
  /** For teachers: the grid (default EDM's sampling range, ρ = 7, t ∈ [0.002, 80]). */
  schedule?: ScheduleConfig;
}

function samplerOf(choice: SamplerChoice) {
  const m = loadImageTeacher(choice.model);
  const sfd = studentSfd(m.card);
  if (sfd) {
    const s = studentSampler(m.denoise, sfd.sampling, choice.nfe);
    return { m, denoise: s.denoise, sampling: s.sampling };
  }
  const sampling = {
    solver: choice.solver ?? 'euler',
    nfe: choice.nfe,
    afs: choice.afs ?? false,
    schedule: choice.schedule ?? edmImageSchedule,
  };
  return { m, denoise: m.denoise, sampling };
}

/** FID (quick: no PRDC) of n samples with a fixed seed, for experiment curves and tables. */
export async function samplerFid(choice: SamplerChoice, n: number, seed = 0): Promise<number> {
  const s = samplerOf(choice);
  const f = loadFeatureNet();
  try {
    return await quickFid(s.denoise, s.m.shape, s.sampling, n, seed, f.net, f.sha256);
  } finally {
    f.net.dispose();
    s.m.unet.dispose();
  }
}

/** FID with precision, recall, density, coverage and classifier confidence (lib/eval) of n samples. */
export async function samplerMetrics(
  choice: SamplerChoice,
  n: number,
  seed = 0,
): Promise<SampleMetrics & { seconds: number }> {
  const s = samplerOf(choice);
  const f = loadFeatureNet();
  try {
    const t0 = performance.now();
    const r = await sampleImages(s.denoise, s.m.shape, n, seed, s.sampling);
    const seconds = (performance.now() - t0) / 1000;
    return { ...(await evaluateImages(r.pixels, n, f.net, f.sha256)), seconds };
  } finally {
    f.net.dispose();
    s.m.unet.dispose();
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
  const s = samplerOf(choice);
  try {
    const r = await sampleImages(s.denoise, s.m.shape, n, seed, s.sampling);
    const png = imageGridPng(r.pixels, n, r.shape, Math.ceil(Math.sqrt(n)));
    saveRasterFigure(name, png, alt);
    displayFigure({ png, alt });
    return png;
  } finally {
    s.m.unet.dispose();
  }
}
