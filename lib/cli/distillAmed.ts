import type { parseArgs } from 'node:util';
import { type AmedConfig, amedDefaults } from '../baselines/amedConfig';
import { amedNfe, amedStepsForNfe } from '../baselines/amedPlugin';
import { trainAmed } from '../baselines/amedTrain';
import { describeBackend, initBackend } from '../runtime/backend';
import { progressBar } from '../util/progress';
import { intArg, numArg, parseCommandArgs, positiveArg, seedArg } from './args';

export const AMED_HELP = `  sfd distill --method amed [--teacher mnist|DIR] --out DIR [--nfe 5 | --steps 4] [--m 2] [--teacher-solver ipndm]
              [--no-afs] [--scale-time 0.2] [--scale-dir 0.01] [--max-order 4] [--rho 7] [--t-min 0.002]
              [--t-max 80] [--lr 5e-3] [--batch 32] [--iterations 313] [--seed 0] [--checkpoint-every 50]
              [--resume] [--unchecked]
                                   AMED-Plugin on iPNDM: train the small predictor of each step's intermediate
                                   time (and its time and direction scales) on the teacher's trajectories
                                   (M extra teacher steps per step); the teacher stays frozen. DIR holds the
                                   predictor (a few kB) and the teacher's sha256; NFE = 2(steps − 1) − AFS`;

const OPTIONS = {
  // accepted so that `sfd distill --method amed …` may pass its arguments through whole
  method: { type: 'string' },
  teacher: { type: 'string' },
  out: { type: 'string' },
  nfe: { type: 'string' },
  steps: { type: 'string' },
  m: { type: 'string' },
  'teacher-solver': { type: 'string' },
  'no-afs': { type: 'boolean' },
  'scale-time': { type: 'string' },
  'scale-dir': { type: 'string' },
  'max-order': { type: 'string' },
  rho: { type: 'string' },
  't-min': { type: 'string' },
  't-max': { type: 'string' },
  lr: { type: 'string' },
  batch: { type: 'string' },
  iterations: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'boolean' },
  unchecked: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** The run's configuration from flags: the official CIFAR-10 plugin setting with each flag applied. */
export function amedConfigFromArgs(v: Values): AmedConfig {
  const d = amedDefaults;
  if (v.nfe !== undefined && v.steps !== undefined) throw new RangeError('give --nfe or --steps, not both');
  const afs = v['no-afs'] ? false : d.afs;
  return {
    ...d,
    numSteps:
      v.nfe !== undefined
        ? amedStepsForNfe(intArg(v.nfe, 'nfe', 5, 1), afs)
        : intArg(v.steps, 'steps', d.numSteps, 2),
    m: intArg(v.m, 'm', d.m, 0),
    teacherSolver: v['teacher-solver'] ?? d.teacherSolver,
    afs,
    scaleTime: numArg(v['scale-time'], 'scale-time', d.scaleTime),
    scaleDir: numArg(v['scale-dir'], 'scale-dir', d.scaleDir),
    maxOrder: intArg(v['max-order'], 'max-order', d.maxOrder, 1),
    schedule: {
      ...d.schedule,
      rho: positiveArg(v.rho, 'rho', d.schedule.rho),
      tMin: positiveArg(v['t-min'], 't-min', d.schedule.tMin),
      tMax: positiveArg(v['t-max'], 't-max', d.schedule.tMax),
    },
    lr: positiveArg(v.lr, 'lr', d.lr),
    batch: intArg(v.batch, 'batch', d.batch, 1),
    iterations: intArg(v.iterations, 'iterations', d.iterations, 1),
    seed: seedArg(v.seed, d.seed),
    checkpointEvery: intArg(v['checkpoint-every'], 'checkpoint-every', d.checkpointEvery, 1),
  };
}

export async function amedCommand(args: string[]): Promise<void> {
  const { values: v } = parseCommandArgs(args, OPTIONS);
  const cfg = amedConfigFromArgs(v);
  if (!v.out) throw new RangeError('sfd distill-amed needs --out DIR for the predictor');
  const b = await initBackend();
  console.error(describeBackend(b));
  const bar = progressBar('amed', 10);
  const r = await trainAmed({
    config: cfg,
    teacher: v.teacher ?? 'mnist',
    uncheckedTeacher: v.unchecked,
    out: v.out,
    resume: v.resume,
    onProgress: (p) =>
      bar(
        p.iteration,
        p.iterations,
        p.seconds,
        `losses ${p.last.stepLosses.map((l) => l.toFixed(2)).join('/')} r ${p.last.r.map((x) => x.toFixed(2)).join('/')}`,
      ),
    card: { command: `sfd distill-amed ${args.join(' ')}`.trim(), backend: b.choice },
  });
  console.log(
    `trained the AMED predictor for ${r.iterations} iterations (${r.iterations * cfg.batch} trajectories) in ${(r.seconds / 60).toFixed(1)} min on ${b.choice}; NFE ${amedNfe(cfg.numSteps, cfg.afs)}; predictor → ${r.modelDir}/model.json`,
  );
}
