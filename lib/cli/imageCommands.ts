import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadMnist, type MnistSplit, mnistBatch } from '../data/mnist';
import type { Denoiser } from '../diffusion/denoiser';
import { edmImageSchedule, type ImageSampling, sampleImages } from '../diffusion/sampleImages';
import { denoisingError, linearDenoiser, pixelGaussian } from '../eval/denoisingError';
import { evaluateImages, mnistPixels, realSubset, writeReferenceStats } from '../eval/evaluate';
import { loadFeatureNet } from '../eval/featureNetFiles';
import {
  IMAGE_TEACHERS,
  type ImageTeacher,
  loadImageTeacher,
  teacherDir as teacherDirOf,
} from '../models/teachers';
import { loadWeights, saveWeights } from '../models/weightsIO';
import { imageGridPng } from '../plot/imageGrid';
import { describeBackend, initBackend } from '../runtime/backend';
import { studentSampler } from '../sfd/sampleStudent';
import type { StudentCardSfd } from '../sfd/stage2';
import { writeFileAtomic } from '../util/atomicWrite';
import { ensureWritableFile } from '../util/outputs';
import { progressBar } from '../util/progress';
import { intArg, numArg, positiveArg, seedArg } from './args';

export const EVAL_HELP = `  sfd eval (--teacher NAME|DIR [--solver S --nfe N --afs --seed S] | --samples FILE.json | --real train)
           [--n 5000] [--ref test|train] [--grid FILE.png] [--record [--card NAME|DIR]]
                                   FID, precision, recall, density, coverage (k=5) and mean classifier confidence as JSON;
                                   --record appends the result to the teacher's card (or to --card's)
  sfd eval --teacher NAME|DIR --denoising [--n 1000] [--record]
                                   denoising MSE per σ on MNIST test, next to the best linear denoiser's
  sfd eval --write-reference-stats  recompute data/mnist-feature-stats.json with the shipped feature network`;

/** True for names of shipped image teachers and for directories holding a model. */
export function isImageTeacher(name: string | undefined): boolean {
  if (name === undefined) return false;
  return IMAGE_TEACHERS[name] !== undefined || existsSync(`${name}/model.json`);
}

interface SamplingArgs {
  solver?: string;
  nfe?: string;
  afs?: boolean;
  rho?: string;
  't-min'?: string;
  't-max'?: string;
  threshold?: boolean;
}

function samplingFrom(v: SamplingArgs, dflt: { solver: string; nfe: number }): ImageSampling {
  return {
    solver: v.solver ?? dflt.solver,
    nfe: intArg(v.nfe, 'nfe', dflt.nfe),
    afs: v.afs ?? false,
    threshold: v.threshold ?? false,
    schedule: {
      ...edmImageSchedule,
      rho: positiveArg(v.rho, 'rho', edmImageSchedule.rho),
      tMin: numArg(v['t-min'], 't-min', edmImageSchedule.tMin),
      tMax: numArg(v['t-max'], 't-max', edmImageSchedule.tMax),
    },
  };
}

/**
 * The denoiser and sampler of an image model: a teacher's from the flags; a distilled student's from its
 * card (Euler on its grid, its AFS and condition; `--nfe` picks one of its NFEs), refusing flags that would
 * sample it otherwise than it was trained.
 */
function modelSampling(
  teacher: ImageTeacher,
  v: SamplingArgs,
): { denoise: Denoiser; cfg: ImageSampling; student: boolean } {
  const sfd = teacher.card.sfd as StudentCardSfd | undefined;
  if (!sfd)
    return { denoise: teacher.denoise, cfg: samplingFrom(v, { solver: 'heun', nfe: 36 }), student: false };
  const fixed = (['solver', 'afs', 'rho', 't-min', 't-max', 'threshold'] as const).filter(
    (k) => v[k] !== undefined,
  );
  if (fixed.length)
    throw new RangeError(
      `${teacher.dir} is an SFD student: it samples as it was trained (Euler, its grid and AFS); drop --${fixed.join(', --')}`,
    );
  const nfe = v.nfe === undefined ? undefined : intArg(v.nfe, 'nfe', 0, 1);
  const s = studentSampler(teacher.denoise, sfd.sampling, nfe);
  return { denoise: s.denoise, cfg: s.sampling, student: true };
}

/** `sfd sample --teacher mnist …`: a PNG grid (and optionally the raw samples) from an image teacher. */
export async function sampleImageCommand(
  values: SamplingArgs & {
    teacher: string;
    seed?: string;
    n?: string;
    out?: string;
    'save-samples'?: string;
  },
): Promise<void> {
  if (!values.out?.endsWith('.png')) throw new RangeError('sampling an image teacher needs --out FILE.png');
  ensureWritableFile(values.out);
  if (values['save-samples']) {
    if (!values['save-samples'].endsWith('.json'))
      throw new RangeError('--save-samples needs a FILE.json (a FILE.bin is written beside it)');
    ensureWritableFile(values['save-samples'], '--save-samples');
  }
  const b = await initBackend();
  console.error(describeBackend(b));
  const teacher = loadImageTeacher(values.teacher);
  const { denoise, cfg } = modelSampling(teacher, values);
  const n = intArg(values.n, 'n', 64, 1);
  const seed = seedArg(values.seed, 0);
  const bar = progressBar('sample', 1);
  const t0 = performance.now();
  const r = await sampleImages(denoise, teacher.shape, n, seed, cfg, 250, (d, t) =>
    bar(d, t, (performance.now() - t0) / 1000),
  );
  writeFileAtomic(values.out, imageGridPng(r.pixels, n, r.shape, Math.min(n, Math.ceil(Math.sqrt(n)))));
  if (values['save-samples'])
    await saveSamples(values['save-samples'], r.pixels, n, r.shape, {
      teacher: values.teacher,
      ...cfg,
      seed,
    });
  teacher.unet.dispose();
  console.log(`${cfg.solver} nfe=${r.nfe}: ${n} samples of ${teacher.dir} → ${values.out}`);
}

async function saveSamples(
  path: string,
  pixels: Float32Array,
  n: number,
  shape: number[],
  meta: object,
): Promise<void> {
  if (!path.endsWith('.json'))
    throw new RangeError('--save-samples needs a FILE.json (a FILE.bin is written beside it)');
  const t = tf.tensor4d(pixels, [n, shape[0], shape[1], shape[2]]);
  const bin = `${path.replace(/^.*\//, '').replace(/\.json$/, '')}.bin`;
  await saveWeights(path, bin, new Map([['samples', t]]), { format: 'sfd-samples', n, shape, ...meta });
  t.dispose();
}

function loadSamples(path: string): { pixels: Float32Array; n: number } {
  const f = loadWeights<{ format?: string }>(path);
  const t = f.tensors.get('samples');
  if (f.meta.format !== 'sfd-samples' || !t)
    throw new Error(`${path} is not a samples file (sfd sample --save-samples)`);
  const s = t.shape;
  if (s.length !== 4 || s[1] !== 28 || s[2] !== 28 || s[3] !== 1)
    throw new Error(`${path}: samples of shape [${s}]; the MNIST metrics need [n,28,28,1]`);
  const pixels = t.dataSync() as Float32Array;
  tf.dispose([...f.tensors.values()]);
  return { pixels, n: s[0] };
}

export async function evalCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      teacher: { type: 'string' },
      samples: { type: 'string' },
      real: { type: 'string' },
      solver: { type: 'string' },
      nfe: { type: 'string' },
      afs: { type: 'boolean' },
      rho: { type: 'string' },
      't-min': { type: 'string' },
      't-max': { type: 'string' },
      threshold: { type: 'boolean' },
      seed: { type: 'string' },
      n: { type: 'string' },
      ref: { type: 'string' },
      grid: { type: 'string' },
      record: { type: 'boolean' },
      card: { type: 'string' },
      'write-reference-stats': { type: 'boolean' },
      denoising: { type: 'boolean' },
    },
  });
  if (values.grid) ensureWritableFile(values.grid, '--grid');
  const b = await initBackend();
  console.error(describeBackend(b));
  const fnet = loadFeatureNet();
  if (values['write-reference-stats']) {
    const f = await writeReferenceStats(fnet.net, fnet.sha256);
    console.log(`reference statistics of MNIST train (${f.train.n}) and test (${f.test.n}) written`);
    return;
  }
  if (values.denoising) {
    if (!values.teacher) throw new RangeError('--denoising needs --teacher NAME|DIR');
    const result = await denoisingReport(values.teacher, intArg(values.n, 'n', 1000, 1), b.choice);
    console.log(JSON.stringify(result));
    if (values.record) recordInCard(teacherDirOf(values.card ?? values.teacher), result);
    return;
  }
  const sources = [values.teacher, values.samples, values.real].filter((v) => v !== undefined);
  if (sources.length !== 1)
    throw new RangeError('sfd eval needs exactly one of --teacher, --samples, --real');
  const ref = (values.ref ?? 'test') as MnistSplit;
  if (ref !== 'test' && ref !== 'train')
    throw new RangeError(`--ref must be test or train, got '${values.ref}'`);
  let n = intArg(values.n, 'n', 5000, 1);
  const t0 = performance.now();
  let pixels: Float32Array;
  let source: Record<string, unknown>;
  let teacherDir: string | null = null;
  if (values.teacher) {
    const teacher = loadImageTeacher(values.teacher);
    const { denoise, cfg, student } = modelSampling(teacher, values);
    const seed = seedArg(values.seed, 0);
    const bar = progressBar('sample', 1);
    const r = await sampleImages(denoise, teacher.shape, n, seed, cfg, 250, (d, t) =>
      bar(d, t, (performance.now() - t0) / 1000),
    );
    teacher.unet.dispose();
    pixels = r.pixels;
    teacherDir = teacher.dir;
    source = {
      teacher: values.teacher,
      teacherSha256: teacher.sha256,
      teacherSteps: teacher.card.steps,
      ...(student
        ? { student: true, condition: (teacher.card.sfd as StudentCardSfd).sampling.condition }
        : {}),
      ...cfg,
      nfe: r.nfe,
      seed,
    };
  } else if (values.samples) {
    ({ pixels, n } = loadSamples(values.samples));
    source = { samples: values.samples };
  } else {
    if (values.real !== 'train')
      throw new RangeError(`--real must be 'train' (real images against the test reference)`);
    const ds = loadMnist('train');
    pixels = mnistPixels(ds, realSubset(ds, n, 1));
    source = { real: 'train', subsetSeed: 1 };
  }
  const sampleSeconds = (performance.now() - t0) / 1000;
  if (values.grid) writeFileAtomic(values.grid, imageGridPng(pixels, Math.min(n, 100), [28, 28, 1], 10));
  const m = await evaluateImages(pixels, n, fnet.net, fnet.sha256, ref);
  const result = { ...source, ...m, backend: b.choice, sampleSeconds: Math.round(sampleSeconds) };
  console.log(JSON.stringify(result));
  if (values.record) {
    const cardDir = values.card ? teacherDirOf(values.card) : teacherDir;
    if (!cardDir) throw new RangeError('--record needs --teacher or --card (whose card gets the result)');
    recordInCard(cardDir, result);
  }
}

/** σ levels of the denoising report: where detail, layout and the digit's identity are decided. */
export const DENOISING_SIGMAS = [0.05, 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 80];

/**
 * The teacher's denoising MSE per σ on n MNIST test images, beside that of the exact denoiser of a
 * Gaussian fitted to MNIST train (the best linear denoiser), on the same noisy inputs.
 */
export async function denoisingReport(
  teacherName: string,
  n: number,
  backend: string,
): Promise<Record<string, unknown>> {
  const teacher = loadImageTeacher(teacherName);
  const test = loadMnist('test');
  const { x } = mnistBatch(test, realSubset(test, n, 2));
  const train = loadMnist('train');
  const all = mnistBatch(
    train,
    Uint32Array.from({ length: train.n }, (_, i) => i),
  ).x;
  const linear = linearDenoiser(await pixelGaussian(all));
  all.dispose();
  const ours = await denoisingError(teacher.denoise, x, DENOISING_SIGMAS);
  const base = await denoisingError(linear, x, DENOISING_SIGMAS);
  teacher.unet.dispose();
  x.dispose();
  return {
    denoising: ours.map((r, i) => ({ sigma: r.sigma, mse: r.mse, linearMse: base[i].mse })),
    teacher: teacherName,
    teacherSha256: teacher.sha256,
    n,
    images: 'MNIST test (seeded subset 2)',
    backend,
  };
}

/**
 * What an evaluation measured (teacher and its hash, solver, NFE, n, seeds, reference, σ list…): everything
 * but its results and when and where it ran.
 */
function settingOf(entry: Record<string, unknown>): string {
  const {
    fid,
    precision,
    recall,
    density,
    coverage,
    meanConfidence,
    backend,
    sampleSeconds,
    date,
    denoising,
    ...setting
  } = entry;
  const sigmas = Array.isArray(denoising) ? denoising.map((d: { sigma: number }) => d.sigma) : null;
  return JSON.stringify({ ...setting, sigmas });
}

/**
 * Records an evaluation in a teacher's card (model.json); its weights and their hash are untouched. A new
 * measurement of a setting already in the card replaces the old one (re-running an evaluation script
 * does not pile up duplicates).
 */
function recordInCard(dir: string, result: object): void {
  const path = `${dir}/model.json`;
  const card = JSON.parse(readFileSync(path, 'utf8'));
  const entry = { ...result, date: new Date().toISOString().slice(0, 10) };
  const same = settingOf(entry);
  const kept = ((card.evaluation ?? []) as Record<string, unknown>[]).filter((e) => settingOf(e) !== same);
  card.evaluation = [...kept, entry];
  writeFileAtomic(path, `${JSON.stringify(card, null, 1)}\n`);
}
