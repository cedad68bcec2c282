import * as tf from '@tensorflow/tfjs';
import { loadMnist, type MnistSet } from '../data/mnist';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { lpipsDistance } from '../eval/lpips';
import { studentSfd } from '../models/card';
import { loadImageTeacher } from '../models/teachers';
import { createUNet, type UNetConfig } from '../models/unet';
import { saveUNet } from '../models/unetFiles';
import { studentFromTeacher } from '../sfd/student';
import { checkMemory } from '../util/memoryBudget';
import { type CdConfig, checkCdConfig } from './consistencyConfig';
import {
  type CdEvalPoint,
  type CdLogPoint,
  cdEmaHalfLife,
  cdMnistData,
  type TrainConsistencyOptions,
  type TrainConsistencyResult,
  trainConsistency,
} from './consistencyDistillation';
import type { ConsistencyNetwork } from './consistencyModel';
import type { CdCardSection } from './consistencySampler';

export interface TrainConsistencyImagesOptions {
  config: CdConfig;
  /** Teacher name or model directory (an EDM teacher; not an SFD or consistency student). */
  teacher: string;
  /** Load a hand-made teacher whose card has no sha256 (warned; see loadWeights). */
  uncheckedTeacher?: boolean;
  out: string;
  resume?: boolean;
  stopAt?: number;
  evalEvery?: number;
  evaluate?: TrainConsistencyOptions['evaluate'];
  searchMidTau?: boolean;
  /** MNIST train split (default: loaded). */
  data?: MnistSet;
  onProgress?: TrainConsistencyOptions['onProgress'];
  onEval?: (e: CdEvalPoint) => void;
  /** Extra card fields (command, evalProtocol…). */
  card?: Record<string, unknown>;
}

export interface TrainConsistencyImagesResult {
  config: CdConfig;
  iterations: number;
  seconds: number;
  log: CdLogPoint[];
  evals: CdEvalPoint[];
  modelDir: string;
}

/**
 * Memory one sample takes in a CD iteration: the online network's activations kept for its gradient
 * (the teacher's and the target's passes keep none). Assumed equal to one SFD student step's, measured
 * at 6.6 MB per sample for the MNIST UNet (lib/sfd/train.ts), scaled with the feature maps.
 */
function cdBytesPerSample(u: UNetConfig): number {
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  return (6.6e6 * ((u.resolution / 28) ** 2 * sum(u.channels))) / sum([16, 32, 64]);
}

/** The UNet as a consistency network. */
function unetNetwork(u: ReturnType<typeof createUNet>): ConsistencyNetwork {
  return { weights: u.weights, net: (x, c) => u.net(x, c), dispose: () => u.dispose() };
}

/**
 * Consistency distillation of an MNIST image teacher: F_θ starts as the teacher's UNet, trained on MNIST
 * batches with `trainConsistency`, in a run folder (lock, checkpoints, resume); the sampling-EMA weights
 * are saved as a model directory whose card's `cd` section says how to sample it
 * (consistencySamplerFromCard).
 */
export async function trainConsistencyImages(
  opts: TrainConsistencyImagesOptions,
): Promise<TrainConsistencyImagesResult> {
  const cfg = opts.config;
  checkCdConfig(cfg);
  const teacher = loadImageTeacher(opts.teacher, { unchecked: opts.uncheckedTeacher });
  let feature: ReturnType<typeof loadFeatureNet> | null = null;
  let student: ReturnType<typeof studentFromTeacher> | null = null;
  try {
    if (studentSfd(teacher.card) || teacher.card.cd !== undefined)
      throw new RangeError(`${teacher.dir} is a distilled student: consistency-distil its teacher instead`);
    if (teacher.card.config.stepCondition)
      throw new RangeError(
        `${teacher.dir} is step-conditioned: consistency distillation needs a plain EDM teacher`,
      );
    if (teacher.shape.join() !== '28,28,1')
      throw new RangeError(
        `${teacher.dir} makes ${teacher.shape.join('×')} images; the CD trainer feeds it MNIST (28×28×1)`,
      );
    checkMemory(
      `consistency distillation at --batch ${cfg.batch}`,
      cfg.batch * cdBytesPerSample(teacher.unet.config),
      'lower --batch',
    );
    const data = opts.data ?? loadMnist('train');
    student = studentFromTeacher(teacher.unet, 'none');
    let perceptual: TrainConsistencyOptions['perceptual'];
    if (cfg.loss === 'lpips') {
      feature = loadFeatureNet();
      const net = feature.net;
      perceptual = (a, b) => lpipsDistance(net, a as tf.Tensor4D, b as tf.Tensor4D);
    }
    const unetConfig = teacher.unet.config;
    const backend = tf.getBackend();
    const r = await trainConsistency({
      config: cfg,
      network: unetNetwork(student.unet),
      create: () => unetNetwork(createUNet(unetConfig, 0)),
      teacher: teacher.denoise,
      data: cdMnistData(data, cfg.batch, cfg.seed),
      perceptual,
      clamp: true,
      run: {
        out: opts.out,
        resume: opts.resume,
        teacherSha256: teacher.sha256,
        command: String(opts.card?.command ?? 'trainConsistency'),
        allowShipped: !!opts.card?.shipped,
      },
      stopAt: opts.stopAt,
      evalEvery: opts.evalEvery,
      evaluate: opts.evaluate,
      searchMidTau: opts.searchMidTau,
      onProgress: opts.onProgress,
      onEval: opts.onEval,
      finish: async (res) => {
        await saveUNet(
          opts.out,
          res.model.weights,
          unetConfig,
          consistencyCard(res, teacher, backend, opts.card),
        );
      },
    });
    r.model.dispose();
    return {
      config: cfg,
      iterations: r.iterations,
      seconds: r.seconds,
      log: r.log,
      evals: r.evals,
      modelDir: opts.out,
    };
  } finally {
    feature?.net.dispose();
    student?.dispose();
    teacher.unet.dispose();
  }
}

function consistencyCard(
  r: TrainConsistencyResult,
  teacher: ReturnType<typeof loadImageTeacher>,
  backend: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const cfg = r.config;
  const cd: CdCardSection & { tauSearch?: TrainConsistencyResult['tauSearch'] } = {
    config: cfg,
    sampling: r.sampling,
    ...(r.tauSearch ? { tauSearch: r.tauSearch } : {}),
  };
  return {
    backend,
    ...extra,
    weights:
      cfg.ema > 0
        ? `sampling EMA (rate ${cfg.ema} per iteration, half-life ${Math.round(cdEmaHalfLife(cfg))} images after EDM's ramp-up ${cfg.emaRampUp})`
        : 'online weights (no sampling EMA)',
    cd,
    teacher: { dir: teacher.dir, sha256: teacher.sha256, steps: teacher.card.steps },
    iterations: r.iterations,
    images: r.iterations * cfg.batch,
    wallSeconds: Math.round(r.seconds),
    iterationsPerSecond: r.iterations / Math.max(r.seconds, 1e-9),
    log: r.log,
    evals: r.evals,
  };
}
