import type { parseArgs } from 'node:util';
import { describeBackend, initBackend } from '../runtime/backend';
import {
  exportCheckpoint,
  type TeacherTrainConfig,
  teacherTrainDefaults,
  trainTeacher,
} from '../train/teacher';
import { progressBar } from '../util/progress';
import { intArg, intListArg, numArg, parseCommandArgs, positiveArg, seedArg } from './args';

export const TRAIN_TEACHER_HELP = `  sfd train-teacher [--steps N] [--batch B] [--out DIR] [--seed S] [--lr LR] [--channels 16,32,64]
                    [--blocks N] [--ema-half-life IMAGES] [--warmup IMAGES] [--p-mean M] [--p-std S]
                    [--[no-]positional] [--checkpoint-every N] [--snapshot-every N] [--resume [--from RUN_DIR]]
                                   EDM-train the MNIST UNet teacher (defaults: the shipped teacher's configuration);
                                   checkpoints go to DIR/checkpoint/; --resume continues DIR's run, or with --from
                                   another run's (e.g. data/teacher-mnist) into a new DIR; only --steps may change;
                                   --snapshot-every keeps EMA models in DIR/snapshots/ (FID curves)
  sfd train-teacher --export RUN_DIR|CHECKPOINT.json --out DIR
                                   write a checkpoint's EMA weights as a model (to evaluate a run part-way)`;

const OPTIONS = {
  steps: { type: 'string' },
  batch: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  from: { type: 'string' },
  export: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  channels: { type: 'string' },
  blocks: { type: 'string' },
  'ema-half-life': { type: 'string' },
  warmup: { type: 'string' },
  positional: { type: 'boolean' },
  'no-positional': { type: 'boolean' },
  'p-mean': { type: 'string' },
  'p-std': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'snapshot-every': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** The run's configuration: the shipped teacher's defaults with each given flag applied. */
export function teacherConfigFromArgs(v: Values): TeacherTrainConfig {
  const d = teacherTrainDefaults;
  return {
    ...d,
    unet: {
      ...d.unet,
      channels: intListArg(v.channels, 'channels', d.unet.channels, 1),
      blocksPerLevel: intArg(v.blocks, 'blocks', d.unet.blocksPerLevel, 1),
      positional: v['no-positional'] ? false : (v.positional ?? d.unet.positional),
    },
    noise: {
      pMean: numArg(v['p-mean'], 'p-mean', d.noise.pMean),
      pStd: positiveArg(v['p-std'], 'p-std', d.noise.pStd),
    },
    steps: intArg(v.steps, 'steps', d.steps, 1),
    batch: intArg(v.batch, 'batch', d.batch, 1),
    seed: seedArg(v.seed, d.seed),
    lr: positiveArg(v.lr, 'lr', d.lr),
    emaHalfLifeImages: intArg(v['ema-half-life'], 'ema-half-life', d.emaHalfLifeImages),
    warmupImages: intArg(v.warmup, 'warmup', d.warmupImages),
    checkpointEvery: intArg(v['checkpoint-every'], 'checkpoint-every', d.checkpointEvery, 1),
  };
}

export async function trainTeacherCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, OPTIONS);
  const command = `sfd train-teacher ${args.join(' ')}`.trim();
  if (values.export) {
    if (!values.out) throw new RangeError('--export needs --out DIR for the model');
    const step = await exportCheckpoint(values.export, values.out, { command });
    console.log(`EMA weights at step ${step} → ${values.out}/model.json`);
    return;
  }
  if (values.from && !values.resume) throw new RangeError('--from RUN_DIR only goes with --resume');
  const config = teacherConfigFromArgs(values);
  const out = values.out ?? 'runs/teacher-mnist';
  const b = await initBackend();
  console.error(describeBackend(b));
  const bar = progressBar('train-teacher');
  const r = await trainTeacher({
    config,
    out,
    resume: values.resume,
    resumeFrom: values.from,
    snapshotEvery:
      values['snapshot-every'] === undefined
        ? undefined
        : intArg(values['snapshot-every'], 'snapshot-every', 0, 1),
    onProgress: (p) => bar(p.step, p.steps, p.seconds, `loss ${p.loss.toFixed(4)}`),
    card: { command, backend: b.choice },
  });
  const last = r.losses[r.losses.length - 1];
  console.log(
    `trained ${r.step} steps in ${(r.seconds / 60).toFixed(1)} min, final loss ${last?.loss.toFixed(4)}; EMA model → ${r.modelDir}/model.json`,
  );
}
