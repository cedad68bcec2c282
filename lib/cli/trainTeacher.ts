import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend } from '../runtime/backend';
import { exportCheckpoint, teacherTrainDefaults, trainTeacher } from '../train/teacher';
import { progressBar } from '../util/progress';

export const TRAIN_TEACHER_HELP = `  sfd train-teacher [--steps N] [--batch B] [--out DIR] [--resume] [--seed S] [--lr LR] [--channels 16,32,32]
                                   [--p-mean M] [--p-std S] [--[no-]positional]
                                   EDM-train the MNIST UNet teacher (checkpoints every --checkpoint-every steps)
  sfd train-teacher --export CHECKPOINT.json --out DIR
                                   write a checkpoint's EMA weights as a model (to evaluate a run part-way)`;

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0)
    throw new RangeError(`--${name} must be a non-negative integer, got '${v}'`);
  return x;
}

export async function trainTeacherCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      steps: { type: 'string' },
      batch: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      export: { type: 'string' },
      seed: { type: 'string' },
      lr: { type: 'string' },
      channels: { type: 'string' },
      positional: { type: 'boolean' },
      'no-positional': { type: 'boolean' },
      'p-mean': { type: 'string' },
      'p-std': { type: 'string' },
      'checkpoint-every': { type: 'string' },
    },
  });
  if (values.export) {
    if (!values.out) throw new RangeError('--export needs --out DIR for the model');
    if (!existsSync(values.export)) throw new Error(`--export: no checkpoint at ${values.export}`);
    const step = await exportCheckpoint(values.export, values.out, {
      command: `sfd train-teacher ${args.join(' ')}`,
    });
    console.log(`EMA weights at step ${step} → ${values.out}/model.json`);
    return;
  }
  const d = teacherTrainDefaults;
  const channels = values.channels?.split(',').map((c) => int(c, 'channels', 0)) ?? d.unet.channels;
  const lr = values.lr === undefined ? d.lr : Number(values.lr);
  const num = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new RangeError(`--${name} must be a number, got '${v}'`);
    return x;
  };
  const noise = {
    pMean: num(values['p-mean'], 'p-mean', d.noise.pMean),
    pStd: num(values['p-std'], 'p-std', d.noise.pStd),
  };
  if (!(noise.pStd > 0)) throw new RangeError(`--p-std must be > 0, got ${noise.pStd}`);
  const config = {
    ...d,
    noise,
    unet: {
      ...d.unet,
      channels,
      positional: values['no-positional'] ? false : (values.positional ?? d.unet.positional),
    },
    steps: int(values.steps, 'steps', d.steps),
    batch: int(values.batch, 'batch', d.batch),
    seed: int(values.seed, 'seed', d.seed),
    lr,
    checkpointEvery: int(values['checkpoint-every'], 'checkpoint-every', d.checkpointEvery),
  };
  const out = values.out ?? 'runs/teacher-mnist';
  const b = await initBackend();
  console.error(describeBackend(b));
  const bar = progressBar('train-teacher');
  const r = await trainTeacher({
    config,
    out,
    resume: values.resume,
    onProgress: (p) => bar(p.step, p.steps, p.seconds, `loss ${p.loss.toFixed(4)}`),
    card: { command: `sfd train-teacher ${args.join(' ')}`.trim(), backend: b.choice },
  });
  const last = r.losses[r.losses.length - 1];
  console.log(
    `trained ${r.step} steps in ${(r.seconds / 60).toFixed(1)} min, final loss ${last?.loss.toFixed(4)}; EMA model → ${r.modelDir}/model.json`,
  );
}
