import type { parseArgs } from 'node:util';
import { readScheduleFile, refuseScheduleFlags, scheduleForSampling } from '../diffusion/scheduleFile';
import { solverByName } from '../diffusion/solvers/registry';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { quickFid } from '../eval/quickFid';
import { studentSfd } from '../models/card';
import { loadImageTeacher } from '../models/teachers';
import { describeBackend, initBackend } from '../runtime/backend';
import { envSettings } from '../runtime/settings';
import { SFD_LOSSES, type SfdConfig, STEP_CONDITIONS, sfdDefaults, stage2Defaults } from '../sfd/config';
import { OFFICIAL_DATASETS, officialCommand, officialCommandLines } from '../sfd/officialCommand';
import { stage2Config } from '../sfd/stage2';
import { targetCache } from '../sfd/targetCache';
import { trainSfd } from '../sfd/train';
import { progressBar } from '../util/progress';
import {
  choiceArg,
  DISTILL_RUN_OPTIONS,
  intArg,
  intListArg,
  numArg,
  parseCommandArgs,
  positiveArg,
  seedArg,
} from './args';
import { amedCommand } from './distillAmed';
import { cdCommand } from './distillCd';
import { pdCommand } from './distillPd';

export const DISTILL_HELP = `  sfd distill [--method sfd] [--teacher mnist|DIR] --out DIR [--nfe 2 | --variable 2,3,4,5 [--cond step|tnext]]
              [--stage2 --from STAGE1_DIR [--teacher-nfe 5]] [--loss l1|l2|lpips|l1+lpips] [--k 4]
              [--teacher-solver dpmpp-3m] [--no-threshold] [--rho 7] [--t-min 0.006] [--t-max 80 | --schedule FILE] [--no-afs]
              [--lr 5e-4] [--lr-drop 0.5] [--batch 16] [--iterations 600] [--seed 0] [--only-steps 1,2]
              [--checkpoint-every 50] [--eval-every N [--eval-n 500] [--eval-seed 0]] [--resume] [--no-cache] [--unchecked]
              [--official-command [--dataset cifar10] [--paper]]
                                   SFD: distil the teacher into a few-step Euler student (SFD-v with --variable;
                                   two-stage 1 NFE with --stage2 --from a stage-1 student); the student directory
                                   is a model: sfd sample/eval --teacher DIR sample it as it was trained.
                                   --schedule FILE: the student's grid from a schedule file (sfd gits --solver euler
                                   --nfe N [--afs] --t-min 0.006), the teacher's refined K steps per interval
                                   --official-command prints the official sfd-main/train.py equivalent: --dataset
                                   picks its --dataset_name (cifar10, ffhq, afhqv2, imagenet64, ms_coco,
                                   lsun_bedroom_ldm, ffhq_ldm), --paper adds the paper's recipe for it`;

const OPTIONS = {
  ...DISTILL_RUN_OPTIONS,
  schedule: { type: 'string' },
  nfe: { type: 'string' },
  variable: { type: 'string' },
  cond: { type: 'string' },
  stage2: { type: 'boolean' },
  from: { type: 'string' },
  'teacher-nfe': { type: 'string' },
  loss: { type: 'string' },
  k: { type: 'string' },
  'teacher-solver': { type: 'string' },
  'no-threshold': { type: 'boolean' },
  rho: { type: 'string' },
  't-min': { type: 'string' },
  't-max': { type: 'string' },
  'no-afs': { type: 'boolean' },
  'lr-drop': { type: 'string' },
  iterations: { type: 'string' },
  'only-steps': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'official-command': { type: 'boolean' },
  dataset: { type: 'string' },
  paper: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** The run's configuration from flags: the paper's defaults (stage 2's for --stage2) with each flag applied. */
export function distillConfigFromArgs(v: Values): SfdConfig {
  const d: typeof sfdDefaults = v.stage2 ? { ...sfdDefaults, ...stage2Defaults } : sfdDefaults;
  if (v.nfe !== undefined && v.variable !== undefined)
    throw new RangeError('give --nfe or --variable, not both');
  if (v.stage2 && (v.rho ?? v['t-min'] ?? v['t-max']) !== undefined)
    throw new RangeError("stage 2 uses its stage-1 teacher's schedule: drop --rho, --t-min and --t-max");
  if (v.stage2) {
    const fixed = (['cond', 'k', 'teacher-solver', 'no-threshold', 'teacher'] as const).filter(
      (k) => v[k] !== undefined,
    );
    if (fixed.length)
      throw new RangeError(
        `stage 2 takes its teacher (--from), grid, K, solver and condition from the stage-1 student: drop --${fixed.join(', --')}`,
      );
  }
  const nfes =
    v.variable !== undefined
      ? intListArg(v.variable, 'variable', [], 1)
      : [intArg(v.nfe, 'nfe', d.nfes[0], 1)];
  const condition = choiceArg(
    v.cond,
    'cond',
    STEP_CONDITIONS,
    v.variable !== undefined ? 'step' : d.condition,
  );
  const teacherSolver = v['teacher-solver'] ?? d.teacherSolver;
  const drop = numArg(v['lr-drop'], 'lr-drop', d.lr.drops[0]?.atFraction ?? 1);
  return {
    ...d,
    nfes,
    condition,
    k: intArg(v.k, 'k', d.k, 1),
    teacherSolver,
    // the official DPM-Solver++ teacher thresholds; other solvers have no thresholding to turn on
    teacherThreshold: !v['no-threshold'] && d.teacherThreshold && solverByName(teacherSolver).thresholds,
    schedule: {
      ...d.schedule,
      rho: positiveArg(v.rho, 'rho', d.schedule.rho),
      tMin: positiveArg(v['t-min'], 't-min', d.schedule.tMin),
      tMax: positiveArg(v['t-max'], 't-max', d.schedule.tMax),
    },
    afs: v['no-afs'] ? false : d.afs,
    loss: choiceArg(v.loss, 'loss', SFD_LOSSES, d.loss),
    lr: {
      ...d.lr,
      lr: positiveArg(v.lr, 'lr', d.lr.lr),
      drops: drop >= 1 ? [] : [{ atFraction: drop, factor: 0.1 }],
    },
    batch: intArg(v.batch, 'batch', d.batch, 1),
    iterations: intArg(v.iterations, 'iterations', d.iterations, 1),
    seed: seedArg(v.seed, d.seed),
    onlySteps: v['only-steps'] === undefined ? null : intListArg(v['only-steps'], 'only-steps', []),
    checkpointEvery: intArg(v['checkpoint-every'], 'checkpoint-every', d.checkpointEvery, 1),
  };
}

/**
 * The explicit student grid of `--schedule FILE` (a searched one: sfd gits), checked against the teacher's
 * sha256 and the student's step count (Euler at its NFE, with its AFS); parametric-grid flags refused.
 */
function studentScheduleFile(v: Values, cfg: SfdConfig, teacher: string) {
  const path = v.schedule as string;
  if (v.stage2) throw new RangeError("stage 2 uses its stage-1 teacher's grid: drop --schedule");
  if (cfg.nfes.length > 1)
    throw new RangeError('--schedule is one grid for one NFE: give --nfe, not --variable');
  refuseScheduleFlags(v);
  const file = readScheduleFile(path); // a bad file fails before the teacher loads
  const t = loadImageTeacher(teacher, { unchecked: v.unchecked });
  t.unet.dispose();
  return scheduleForSampling(
    path,
    {
      teacherSha256: t.sha256,
      solver: 'euler',
      nfe: cfg.nfes[0],
      afs: cfg.afs,
    },
    file,
  );
}

/** The distillation methods `sfd distill --method M` runs (SFD by default), each with its own options. */
const METHODS: Readonly<Record<string, ((args: string[]) => Promise<void>) | null>> = {
  sfd: null,
  pd: pdCommand,
  cd: cdCommand,
  amed: amedCommand,
};

/** `--method M` or `--method=M` among the arguments (undefined when absent). */
function methodOf(args: string[]): string | undefined {
  const i = args.findIndex((a) => a === '--method' || a.startsWith('--method='));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice('--method='.length) : args[i + 1];
}

export async function distillCommand(args: string[]): Promise<void> {
  const method = methodOf(args) ?? 'sfd';
  if (!(method in METHODS))
    throw new RangeError(`--method must be one of ${Object.keys(METHODS).join(', ')}, got '${method}'`);
  const other = METHODS[method];
  if (other) return other(args);
  const { values: v } = parseCommandArgs(args, OPTIONS);
  const cfg = distillConfigFromArgs(v);
  const stage = v.stage2 ? 2 : 1;
  if (v.stage2 && !v.from)
    throw new RangeError('--stage2 needs --from STAGE1_DIR (a 5-NFE SFD or an SFD-v student)');
  if (!v.stage2 && v.from) throw new RangeError('--from goes with --stage2 (stage 1 distils --teacher)');
  if (!v['official-command'] && (v.dataset !== undefined || v.paper))
    throw new RangeError(
      `${v.dataset !== undefined ? `--dataset ${v.dataset}` : '--paper'} goes with --official-command (it names the official train.py run)`,
    );
  if (v['official-command']) {
    if (v.schedule !== undefined)
      throw new RangeError(
        'the official sfd-main has no explicit schedule (--schedule_type: polynomial, logsnr, time_uniform)',
      );
    const dataset = choiceArg(v.dataset, 'dataset', OFFICIAL_DATASETS, 'cifar10');
    // stage 2's K, teacher and condition come from the stage-1 student's card
    let resolved = cfg;
    if (v.stage2 && v.from) {
      const t = loadImageTeacher(v.from);
      t.unet.dispose();
      const nfe = v['teacher-nfe'] === undefined ? undefined : intArg(v['teacher-nfe'], 'teacher-nfe', 5, 1);
      resolved = stage2Config(studentSfd(t.card), v.from, cfg, nfe);
    }
    const o = officialCommand(resolved, { stage, stage1Dir: v.from, dataset, paper: v.paper });
    for (const line of officialCommandLines(o)) console.log(line);
    return;
  }
  if (!v.out) throw new RangeError('sfd distill needs --out DIR for the student');
  const teacher = (v.stage2 ? v.from : v.teacher) ?? 'mnist';
  if (v.schedule !== undefined) cfg.schedule = studentScheduleFile(v, cfg, teacher);
  const evalEvery = v['eval-every'] === undefined ? undefined : intArg(v['eval-every'], 'eval-every', 0, 1);
  const evalN = intArg(v['eval-n'], 'eval-n', 500, 2);
  const evalSeed = seedArg(v['eval-seed'], 0);
  const b = await initBackend();
  console.error(describeBackend(b));
  const fnet = evalEvery ? loadFeatureNet() : null;
  const bar = progressBar('distill', 10);
  const cache = v['no-cache'] ? undefined : targetCache(envSettings().cache);
  try {
    const r = await trainSfd({
      config: cfg,
      teacher,
      uncheckedTeacher: v.unchecked,
      out: v.out,
      stage,
      teacherNfe: v['teacher-nfe'] === undefined ? undefined : intArg(v['teacher-nfe'], 'teacher-nfe', 5, 1),
      resume: v.resume,
      targets: cache?.targets,
      evalEvery,
      evaluate: fnet
        ? (s) => quickFid(s.denoise, [28, 28, 1], s.sampling, evalN, evalSeed, fnet.net, fnet.sha256)
        : undefined,
      onEval: (e) =>
        console.error(`  iteration ${e.iteration}: FID ${e.fid.toFixed(2)} at NFE ${e.nfe} (N = ${evalN})`),
      onProgress: (p) =>
        bar(
          p.iteration,
          p.iterations,
          p.seconds,
          `NFE ${p.last.nfe} losses ${p.last.stepLosses.map((l) => l.toFixed(1)).join('/')}`,
        ),
      card: {
        command: `sfd distill ${args.join(' ')}`.trim(),
        backend: b.choice,
        ...(evalEvery
          ? { evalProtocol: { n: evalN, seed: evalSeed, reference: 'test', metric: 'FID' } }
          : {}),
      },
    });
    const ips = r.iterations / Math.max(r.seconds, 1e-9);
    const cached = r.log.filter((p) => p.teacherCalls === 0).length;
    console.log(
      `distilled ${r.iterations} iterations (${r.iterations * cfg.batch} trajectories) in ${(r.seconds / 60).toFixed(1)} CPU-min on ${b.choice} (${ips.toFixed(2)} it/s${cached ? `; ${cached} iterations' teacher trajectories from the cache` : ''}); student → ${r.modelDir}/model.json`,
    );
  } finally {
    fnet?.net.dispose();
  }
}
