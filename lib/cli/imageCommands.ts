import { existsSync } from 'node:fs';
import { loadMnist, type MnistSplit } from '../data/mnist';
import { edmImageSchedule, type ImageSampling } from '../diffusion/sampleImages';
import { refuseScheduleFlags, scheduleForSampling } from '../diffusion/scheduleFile';
import { denoisingReport } from '../eval/denoisingReport';
import { evaluateImages, mnistPixels, realSubset, writeReferenceStats } from '../eval/evaluate';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { recordInCard } from '../eval/recordEvaluation';
import { loadSamples, saveSamples } from '../eval/samplesFile';
import { type ImageModelSampler, openImageModel } from '../experiments/imageModelSampler';
import { IMAGE_TEACHERS, teacherDir as teacherDirOf } from '../models/teachers';
import { imageGridPng } from '../plot/imageGrid';
import { describeBackend, initBackend } from '../runtime/backend';
import { writeFileAtomic } from '../util/atomicWrite';
import { checkMemory } from '../util/memoryBudget';
import { ensureWritableFile } from '../util/outputs';
import { progressBar } from '../util/progress';
import { intArg, numArg, parseCommandArgs, positiveArg, seedArg } from './args';

export const EVAL_HELP = `  sfd eval (--teacher NAME|DIR [--solver S --nfe N --afs --seed S] | --samples FILE.json | --real train)
           [--n 5000] [--ref test|train] [--grid FILE.png] [--record [--card NAME|DIR]] [--unchecked]
                                   FID, precision, recall, density, coverage (k=5) and mean classifier confidence as JSON;
                                   --record appends the result to the teacher's card (or to --card's);
                                   --schedule FILE samples on a schedule file's σ grid (sfd gits);
                                   a distilled model DIR (SFD, PD, CD, AMED) samples as it was trained
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
  schedule?: string;
}

function samplingFrom(v: SamplingArgs, dflt: { solver: string; nfe: number }): ImageSampling {
  return {
    solver: v.solver ?? dflt.solver,
    nfe: intArg(v.nfe, 'nfe', dflt.nfe, 1),
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

/** The solver flags: only a teacher takes them (a distilled model samples as it was trained). */
const SOLVER_FLAGS = ['solver', 'afs', 'rho', 't-min', 't-max', 'threshold', 'schedule'] as const;

/**
 * The model `--teacher` names, ready to sample as the flags ask: a teacher with a solver from them, a
 * distilled model (SFD, PD, CD, AMED) as it was trained, refusing flags that would sample it otherwise.
 */
function openFromFlags(name: string, v: SamplingArgs, unchecked?: boolean): ImageModelSampler {
  return openImageModel(name, {
    nfe: v.nfe === undefined ? undefined : intArg(v.nfe, 'nfe', 0, 1),
    solverFlags: SOLVER_FLAGS.filter((k) => v[k] !== undefined),
    teacherSampling: (sha256) => {
      if (v.schedule !== undefined) refuseScheduleFlags(v);
      const cfg = samplingFrom(v, { solver: 'heun', nfe: 36 });
      if (v.schedule !== undefined)
        cfg.schedule = scheduleForSampling(v.schedule, {
          ...cfg,
          teacherSha256: sha256,
        });
      return cfg;
    },
    unchecked,
  });
}

/** A model's samples with a progress line counted in model calls (not batches): an ETA from the first seconds. */
function sampleWithProgress(model: ImageModelSampler, n: number, seed: number): Promise<Float32Array> {
  const bar = progressBar(`sample ${n} at NFE ${model.nfe}: model calls`, model.nfe);
  const t0 = performance.now();
  return model.sample(n, seed, (done, total) => bar(done, total, (performance.now() - t0) / 1000));
}

/** The fewest samples the metrics take: FID needs 2 (a covariance), PRDC more than its k = 5 neighbours. */
export const EVAL_MIN_SAMPLES = 6;

/** Refuses, before sampling, an evaluation with too few samples or more than memory holds. */
function checkEvalRequest(n: number, shape: number[]): void {
  if (n < EVAL_MIN_SAMPLES)
    throw new RangeError(
      `eval needs at least ${EVAL_MIN_SAMPLES} samples (FID needs 2, PRDC more than k = 5), got ${n}`,
    );
  // the samples and their features, and as many real images and features for PRDC
  checkMemory(`eval --n ${n}`, n * (shape.reduce((a, b) => a * b) * 8 + 128 * 8 * 4), 'lower --n');
}

/** `sfd sample --teacher mnist …`: a PNG grid (and optionally the raw samples) from an image teacher. */
export async function sampleImageCommand(
  values: SamplingArgs & {
    teacher: string;
    seed?: string;
    n?: string;
    out?: string;
    'save-samples'?: string;
    unchecked?: boolean;
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
  const n = intArg(values.n, 'n', 64, 1);
  const seed = seedArg(values.seed, 0);
  const model = openFromFlags(values.teacher, values, values.unchecked);
  try {
    // the samples, their grid image (RGBA) and its PNG encoding
    checkMemory(`sample --n ${n}`, n * model.shape.reduce((a, b) => a * b) * 16, 'lower --n');
    const pixels = await sampleWithProgress(model, n, seed);
    writeFileAtomic(values.out, imageGridPng(pixels, n, model.shape, Math.min(n, Math.ceil(Math.sqrt(n)))));
    if (values['save-samples'])
      await saveSamples(values['save-samples'], pixels, n, model.shape, { ...model.describe, seed });
    const how = model.describe.solver ?? model.kind;
    console.log(`${how} nfe=${model.nfe}: ${n} samples of ${model.dir} → ${values.out}`);
  } finally {
    model.dispose();
  }
}

/** The flags that choose a model and how it samples: shared by `sfd sample` and `sfd eval`. */
export const SAMPLING_OPTIONS = {
  teacher: { type: 'string' },
  solver: { type: 'string' },
  nfe: { type: 'string' },
  afs: { type: 'boolean' },
  rho: { type: 'string' },
  't-min': { type: 'string' },
  't-max': { type: 'string' },
  threshold: { type: 'boolean' },
  seed: { type: 'string' },
  n: { type: 'string' },
  unchecked: { type: 'boolean' },
  schedule: { type: 'string' },
} as const;

const EVAL_OPTIONS = {
  ...SAMPLING_OPTIONS,
  samples: { type: 'string' },
  real: { type: 'string' },
  ref: { type: 'string' },
  grid: { type: 'string' },
  record: { type: 'boolean' },
  card: { type: 'string' },
  'write-reference-stats': { type: 'boolean' },
  denoising: { type: 'boolean' },
} as const;

type EvalValues = ReturnType<typeof parseCommandArgs<typeof EVAL_OPTIONS>>['values'];

/** `sfd eval`: one of its three modes — reference statistics, the denoising report, or the sample metrics. */
export async function evalCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, EVAL_OPTIONS);
  if (values['write-reference-stats']) return writeStatsMode();
  if (values.denoising) return denoisingMode(values);
  return metricsMode(values);
}

async function writeStatsMode(): Promise<void> {
  console.error(describeBackend(await initBackend()));
  const fnet = loadFeatureNet();
  const f = await writeReferenceStats(fnet.net, fnet.sha256);
  fnet.net.dispose();
  console.log(`reference statistics of MNIST train (${f.train.n}) and test (${f.test.n}) written`);
}

async function denoisingMode(values: EvalValues): Promise<void> {
  if (!values.teacher) throw new RangeError('--denoising needs --teacher NAME|DIR');
  const b = await initBackend();
  console.error(describeBackend(b));
  const result = await denoisingReport(values.teacher, intArg(values.n, 'n', 1000, 1), b.choice);
  console.log(JSON.stringify(result));
  if (values.record) recordInCard(teacherDirOf(values.card ?? values.teacher), result);
}

/** FID, PRDC and confidence of images from a model, a samples file or real data. */
async function metricsMode(values: EvalValues): Promise<void> {
  const sources = [values.teacher, values.samples, values.real].filter((v) => v !== undefined);
  if (sources.length !== 1)
    throw new RangeError('sfd eval needs exactly one of --teacher, --samples, --real');
  const ref = (values.ref ?? 'test') as MnistSplit;
  if (ref !== 'test' && ref !== 'train')
    throw new RangeError(`--ref must be test or train, got '${values.ref}'`);
  if (values.grid) ensureWritableFile(values.grid, '--grid');
  const b = await initBackend();
  console.error(describeBackend(b));
  const fnet = loadFeatureNet();
  try {
    const t0 = performance.now();
    const { pixels, n, source, teacherDir } = await imagesToEvaluate(values);
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
  } finally {
    fnet.net.dispose();
  }
}

/** The images an evaluation scores, and what they are (recorded beside the metrics). */
async function imagesToEvaluate(values: EvalValues): Promise<{
  pixels: Float32Array;
  n: number;
  source: Record<string, unknown>;
  teacherDir: string | null;
}> {
  if (values.samples) {
    if (values.n !== undefined)
      throw new RangeError('--n goes with --teacher or --real: a samples file has its own');
    const { pixels, n } = loadSamples(values.samples);
    checkEvalRequest(n, [28, 28, 1]);
    return { pixels, n, source: { samples: values.samples }, teacherDir: null };
  }
  const n = intArg(values.n, 'n', 5000, 1);
  if (values.real !== undefined) {
    if (values.real !== 'train')
      throw new RangeError(`--real must be 'train' (real images against the test reference)`);
    checkEvalRequest(n, [28, 28, 1]);
    const ds = loadMnist('train');
    const pixels = mnistPixels(ds, realSubset(ds, n, 1));
    return { pixels, n, source: { real: 'train', subsetSeed: 1 }, teacherDir: null };
  }
  const seed = seedArg(values.seed, 0);
  const model = openFromFlags(values.teacher as string, values, values.unchecked);
  try {
    checkEvalRequest(n, model.shape);
    const pixels = await sampleWithProgress(model, n, seed);
    return { pixels, n, source: { ...model.describe, seed }, teacherDir: model.dir };
  } finally {
    model.dispose();
  }
}
