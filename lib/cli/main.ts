import * as tf from '@tensorflow/tfjs';
import { benchDefaults } from '../bench/benchmark';
import { formatKernelProfile, profileSfdIteration } from '../bench/kernelProfile';
import { benchReport } from '../bench/report';
import { edmImageSchedule } from '../diffusion/sampleImages';
import { refuseScheduleFlags } from '../diffusion/scheduleFile';
import { SOLVER_NAMES } from '../diffusion/solvers/registry';
import { toyScheduleFile } from '../experiments/gitsSearch';
import { sampleDefaults, sampleToy, writeSampleJson } from '../experiments/sampleToy';
import { TOY_MIXTURES } from '../models/toys';
import {
  BACKEND_ORDER,
  backendReport,
  describeBackend,
  gpuBackendPresent,
  initBackend,
} from '../runtime/backend';
import { ensureWritableFile } from '../util/outputs';
import { intArg, numArg, parseCommandArgs, positiveArg, seedArg } from './args';
import { DISTILL_HELP, distillCommand } from './distill';
import { AMED_HELP } from './distillAmed';
import { CD_HELP } from './distillCd';
import { PD_HELP } from './distillPd';
import { GALLERY_HELP, galleryCommand } from './gallery';
import { GITS_HELP, gitsCommand } from './gits';
import { GPU_CHECK_HELP, gpuCheckCommand } from './gpuCheck';
import {
  EVAL_HELP,
  evalCommand,
  isImageTeacher,
  SAMPLING_OPTIONS,
  sampleImageCommand,
} from './imageCommands';
import { TRAIN_FEATURES_HELP, trainFeaturesCommand } from './trainFeatures';
import { TRAIN_TEACHER_HELP, trainTeacherCommand } from './trainTeacher';

const INFO_HELP = `  sfd info                         backend in use, versions, GPU backend presence`;

const BENCH_HELP = `  sfd bench [--backends native,wasm] [--reps N]
                                   time each backend on a train step, inference and an SFD iteration
  sfd bench --profile [--reps N]   where the trainer's SFD iteration (MNIST teacher, batch 16) spends its
                                   time on this backend, kernel by kernel`;

const SAMPLE_HELP = `  sfd sample [options] --out FILE  sample a teacher: toy ones write samples + trajectory as JSON,
                                   image ones (mnist, or a model directory) a PNG grid (default heun, 36 NFE,
                                   σ 0.002…80; --n 64; --save-samples FILE.json keeps the raw samples)
    --teacher NAME   ${Object.keys(TOY_MIXTURES).join(' | ')} | mnist | DIR (default ${sampleDefaults.teacher})
    --solver NAME    ${SOLVER_NAMES.join(' | ')} (aliases ddim, dpm, dpmpp) (default ${sampleDefaults.solver})
    --nfe N          denoiser evaluations (default ${sampleDefaults.nfe})
    --afs            analytical first step (saves one evaluation)
    --rho R          polynomial schedule exponent (default ${sampleDefaults.rho})
    --t-min T, --t-max T   noise range (default: toy teachers ${sampleDefaults.tMin}, ${sampleDefaults.tMax};
                     image teachers ${edmImageSchedule.tMin}, ${edmImageSchedule.tMax}, EDM's)
    --seed S         noise seed (default ${sampleDefaults.seed})
    --n N            number of samples (default ${sampleDefaults.n})
    --threshold      dynamic thresholding of x0 (DPM-Solver++ and UniPC; the official SFD teacher uses it)
    --exact          also solve the exact ODE and report the mean endpoint error
    --schedule FILE  sample on a schedule file's σ grid (sfd gits) instead of the polynomial one; its
                     teacher and its step count (the solver's at --nfe) must match; no --rho/--t-min/--t-max
    --unchecked      load a hand-made model directory whose card has no sha256 (with a warning)
  A distilled model DIR samples as it was trained, so only --nfe, --seed and --n apply: an SFD or PD student
  (Euler on its grid; --nfe picks one of its NFEs), a consistency model (distill --method cd; --nfe 1 or 2,
  default 1), an AMED-Plugin predictor (distill --method amed; its teacher with iPNDM at its one NFE).`;

/** Each command's own usage: `sfd CMD --help`, `sfd CMD -h` and `sfd help CMD` print it. */
const COMMAND_HELP: Readonly<Record<string, string>> = {
  info: INFO_HELP,
  bench: BENCH_HELP,
  sample: SAMPLE_HELP,
  'train-teacher': TRAIN_TEACHER_HELP,
  distill: [DISTILL_HELP, PD_HELP, CD_HELP, AMED_HELP].join('\n'),
  'train-features': TRAIN_FEATURES_HELP,
  eval: EVAL_HELP,
  gallery: GALLERY_HELP,
  gits: GITS_HELP,
  'gpu-check': GPU_CHECK_HELP,
};

const HELP = `sfd — Simple and Fast Distillation lab

usage (sfd help COMMAND, or sfd COMMAND --help, shows one command):
${Object.values(COMMAND_HELP).join('\n')}
environment: SFD_BACKEND=${BACKEND_ORDER.join('|')} forces a backend.`;

async function info(): Promise<void> {
  const b = await initBackend();
  const pkg = require('../../package.json');
  const report = {
    backend: b.choice,
    tfjsBackend: b.backend,
    forced: b.forced,
    attempts: b.attempts,
    gpuBackendInstalled: gpuBackendPresent(),
    gpuDevice: b.gpuDevice,
    adapter: b.adapter,
    versions: { sfdLab: pkg.version, tfjs: tf.version.tfjs, node: process.versions.node },
  };
  console.log(describeBackend(b));
  for (const line of backendReport(b)) console.log(line);
  console.log(
    `versions: sfd-lab ${report.versions.sfdLab}, tfjs ${report.versions.tfjs}, node ${report.versions.node}`,
  );
  console.log(JSON.stringify(report));
}

async function sample(args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, {
    ...SAMPLING_OPTIONS,
    exact: { type: 'boolean' },
    out: { type: 'string' },
    'save-samples': { type: 'string' },
  });
  if (isImageTeacher(values.teacher)) {
    if (values.exact)
      throw new RangeError('--exact needs a toy teacher (image teachers have no exact solution)');
    return sampleImageCommand({ ...values, teacher: values.teacher as string });
  }
  if (values['save-samples']) throw new RangeError('--save-samples is for image teachers (--teacher mnist)');
  if (!values.out) throw new RangeError('sfd sample needs --out FILE.json');
  ensureWritableFile(values.out);
  const d = sampleDefaults;
  const cfg = {
    teacher: values.teacher ?? d.teacher,
    solver: values.solver ?? d.solver,
    nfe: intArg(values.nfe, 'nfe', d.nfe, 1),
    afs: values.afs ?? d.afs,
    rho: positiveArg(values.rho, 'rho', d.rho),
    tMin: numArg(values['t-min'], 't-min', d.tMin),
    tMax: numArg(values['t-max'], 't-max', d.tMax),
    seed: seedArg(values.seed, d.seed),
    n: intArg(values.n, 'n', d.n, 1),
    exact: values.exact ?? d.exact,
    threshold: values.threshold ?? d.threshold,
  };
  if (values.schedule !== undefined) refuseScheduleFlags(values);
  const schedule = values.schedule === undefined ? undefined : toyScheduleFile(values.schedule, cfg);
  const b = await initBackend();
  console.error(describeBackend(b));
  const r = sampleToy({ ...cfg, ...schedule });
  writeSampleJson(values.out, r);
  const err =
    r.meanEndpointError === undefined ? '' : `, mean endpoint error ${r.meanEndpointError.toExponential(3)}`;
  console.log(
    `${cfg.solver} nfe=${r.nfe} (${r.ts.length} timestamps${cfg.afs ? ', AFS' : ''}): ${cfg.n} samples → ${values.out}${err}`,
  );
}

async function bench(args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, {
    backends: { type: 'string' },
    reps: { type: 'string' },
    profile: { type: 'boolean' },
  });
  if (values.profile && values.backends)
    throw new Error('bench: --profile runs on the backend in use (SFD_BACKEND), not --backends');
  await initBackend();
  if (values.profile) {
    console.log(
      `backend ${tf.getBackend()}: the trainer's SFD iteration (MNIST teacher, batch 16), kernel by kernel`,
    );
    console.log(
      formatKernelProfile(await profileSfdIteration({}, undefined, intArg(values.reps, 'reps', 5, 1))),
    );
    return;
  }
  const cfg = {
    ...benchDefaults,
    backends: values.backends?.split(',') ?? benchDefaults.backends,
    reps: intArg(values.reps, 'reps', benchDefaults.reps, 1),
  };
  await benchReport(
    cfg,
    (line) => console.log(line),
    (s) => console.error(s),
  );
}

/** Runs the CLI; returns the process exit code. Errors are printed as one line, not a stack. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'help' && rest.length > 0) {
      const h = COMMAND_HELP[rest[0]];
      if (!h)
        throw new RangeError(
          `unknown command '${rest[0]}' (commands: ${Object.keys(COMMAND_HELP).join(', ')})`,
        );
      console.log(h);
      return 0;
    }
    if (cmd !== undefined && COMMAND_HELP[cmd] && (rest.includes('--help') || rest.includes('-h'))) {
      console.log(COMMAND_HELP[cmd]);
      return 0;
    }
    if (cmd === 'info') await info();
    else if (cmd === 'sample') await sample(rest);
    else if (cmd === 'bench') await bench(rest);
    else if (cmd === 'train-teacher') await trainTeacherCommand(rest);
    else if (cmd === 'train-features') await trainFeaturesCommand(rest);
    else if (cmd === 'distill') await distillCommand(rest);
    else if (cmd === 'eval') await evalCommand(rest);
    else if (cmd === 'gallery') await galleryCommand(rest);
    else if (cmd === 'gits') await gitsCommand(rest);
    else if (cmd === 'gpu-check') return await gpuCheckCommand(rest);
    else if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') console.log(HELP);
    else
      throw new RangeError(
        `unknown command '${cmd}' (commands: ${Object.keys(COMMAND_HELP).join(', ')}; sfd help lists them)`,
      );
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // an unknown or misused flag: point at the command's own usage
    const hint = /^(Unknown option|Option '|Unexpected argument)/.test(msg)
      ? ` (sfd ${cmd} --help lists its options)`
      : '';
    console.error(`sfd ${cmd ?? ''}: ${msg}${hint}`);
    return 1;
  }
}
