import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { edmImageSchedule } from '../diffusion/sampleImages';
import { SOLVER_NAMES } from '../diffusion/solvers/registry';
import {
  type BenchRow,
  benchDefaults,
  formatBenchTable,
  lossCurveParity,
  runBenchmark,
  sfdTargetReport,
} from '../experiments/benchmark';
import { checkPeer, peerAvailable, runPeer } from '../experiments/peerBench';
import { TOY_MIXTURES } from '../models/toys';
import { unetDefaults } from '../models/unet';
import {
  BACKEND_ORDER,
  backendReport,
  describeBackend,
  gpuBackendPresent,
  initBackend,
} from '../runtime/backend';
import { loadAddon } from '../runtime/native/addon';
import { sfdDefaults } from '../sfd/config';
import { mnistTeacherUNet } from '../train/teacher';
import { ensureWritableFile } from '../util/outputs';
import { intArg, numArg, positiveArg, seedArg } from './args';
import { DISTILL_HELP, distillCommand } from './distill';
import { GALLERY_HELP, galleryCommand } from './gallery';
import { GPU_CHECK_HELP, gpuCheckCommand } from './gpuCheck';
import { EVAL_HELP, evalCommand, isImageTeacher, sampleImageCommand } from './imageCommands';
import { sampleDefaults, sampleToy, writeSampleJson } from './sample';
import { TRAIN_FEATURES_HELP, trainFeaturesCommand } from './trainFeatures';
import { TRAIN_TEACHER_HELP, trainTeacherCommand } from './trainTeacher';

const HELP = `sfd — Simple and Fast Distillation lab

usage:
  sfd info                         backend in use, versions, GPU backend presence
  sfd bench [--backends native,wasm] [--reps N]
                                   time each backend on a train step, inference and an SFD iteration
  sfd sample [options] --out FILE  sample a teacher: toy ones write samples + trajectory as JSON,
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
    --threshold      dynamic thresholding of x0 (DPM-Solver++ only; the official SFD teacher uses it)
    --exact          also solve the exact ODE and report the mean endpoint error
${TRAIN_TEACHER_HELP}
${DISTILL_HELP}
${TRAIN_FEATURES_HELP}
${EVAL_HELP}
${GALLERY_HELP}
${GPU_CHECK_HELP}
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
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      teacher: { type: 'string' },
      solver: { type: 'string' },
      nfe: { type: 'string' },
      afs: { type: 'boolean' },
      rho: { type: 'string' },
      't-min': { type: 'string' },
      't-max': { type: 'string' },
      seed: { type: 'string' },
      n: { type: 'string' },
      exact: { type: 'boolean' },
      threshold: { type: 'boolean' },
      out: { type: 'string' },
      'save-samples': { type: 'string' },
    },
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
    nfe: intArg(values.nfe, 'nfe', d.nfe),
    afs: values.afs ?? d.afs,
    rho: positiveArg(values.rho, 'rho', d.rho),
    tMin: numArg(values['t-min'], 't-min', d.tMin),
    tMax: numArg(values['t-max'], 't-max', d.tMax),
    seed: seedArg(values.seed, d.seed),
    n: intArg(values.n, 'n', d.n, 1),
    exact: values.exact ?? d.exact,
    threshold: values.threshold ?? d.threshold,
  };
  const b = await initBackend();
  console.error(describeBackend(b));
  const r = sampleToy(cfg);
  writeSampleJson(values.out, r);
  const err =
    r.meanEndpointError === undefined ? '' : `, mean endpoint error ${r.meanEndpointError.toExponential(3)}`;
  console.log(
    `${cfg.solver} nfe=${r.nfe} (${r.ts.length} timestamps${cfg.afs ? ', AFS' : ''}): ${cfg.n} samples → ${values.out}${err}`,
  );
}

async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { backends: { type: 'string' }, reps: { type: 'string' } },
  });
  await initBackend();
  const cfg = {
    ...benchDefaults,
    backends: values.backends?.split(',') ?? benchDefaults.backends,
    reps: intArg(values.reps, 'reps', benchDefaults.reps, 1),
  };
  const { peak, fma, rows } = await runBenchmark(cfg, (s) => console.error(s));
  const { addon } = loadAddon();
  if (addon) console.log(`BLAS: ${addon.config().blas}; convolutions: ${addon.config().conv}`);
  console.log(`sgemm (2048², OpenBLAS, this run): ${peak === null ? 'n/a' : `${peak.toFixed(1)} GFLOP/s`}`);
  console.log(
    `fp32 FMA peak (native FMA chains, this run): ${fma === null ? 'n/a' : `${fma.toFixed(1)} GFLOP/s`}`,
  );
  console.log(formatBenchTable(rows));
  for (const r of rows)
    console.log(JSON.stringify({ bench: 'sfd', sgemmGflops: peak, fmaPeakGflops: fma, ...r }));
  await peerComparison(rows, cfg.reps);
  const t = sfdTargetReport();
  if (!t)
    console.log(
      'SFD targets: no shipped NFE-2 student with an N = 5000 evaluation (scripts/ship-students.sh)',
    );
  else {
    const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(
      `SFD at NFE 2 (shipped student, default config): ${t.minutes.toFixed(1)} CPU-min on ${t.backend}${t.cachedTargetIterations ? ` (teacher trajectories of ${t.cachedTargetIterations} iterations from the cache: not a measure of the cost)` : ''} (target ≤ 10: ${mark(t.fastEnough)}); ` +
        `FID ${t.fid.toFixed(2)} (N = 5000) vs DPM-Solver++(3M) ${t.dpm5.toFixed(2)} at NFE 5 (below it: ${mark(t.beatsDpm5)}) ` +
        `and ${t.dpm10.toFixed(2)} at NFE 10 (≤ 1.15×, ${(1.15 * t.dpm10).toFixed(2)}: ${mark(t.within115OfDpm10)})`,
    );
    console.log(JSON.stringify({ bench: 'sfd-targets', ...t }));
  }
  if (addon) {
    const p = await lossCurveParity(['wasm', 'native'], 200);
    const last = (b: string) => p.curves[b][p.steps - 1].toFixed(5);
    console.log(
      `loss-curve parity, ${p.steps} Adam steps of a small UNet from one seed: final loss wasm ${last('wasm')}, native ${last('native')}; largest relative difference over the curve ${p.maxRelDiff.toExponential(2)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'parity',
        steps: p.steps,
        maxRelDiff: p.maxRelDiff,
        final: { wasm: p.curves.wasm[p.steps - 1], native: p.curves.native[p.steps - 1] },
      }),
    );
  }
}

/**
 * The PyTorch peer on the same workloads (bench/peers/unet_torch.py, checked to compute the same network),
 * side by side with the native backend; skipped with a one-line reason where python3 has no torch.
 */
async function peerComparison(rows: BenchRow[], reps: number): Promise<void> {
  const avail = peerAvailable();
  if (avail.ok === false) {
    console.log(`PyTorch peer: skipped (${avail.reason})`);
    return;
  }
  for (const [name, u] of [
    ['bench UNet', unetDefaults],
    ['MNIST teacher', mnistTeacherUNet],
  ] as const) {
    const c = await checkPeer(u);
    console.log(
      `PyTorch ${avail.version} peer computes the ${name} (${c.params} parameters) to within ${c.maxAbsDiff.toExponential(1)} (outputs up to ${c.maxAbs.toFixed(3)})`,
    );
  }
  const peer = runPeer(
    [
      { name: 'train step', kind: 'train', unet: unetDefaults, batch: benchDefaults.trainBatch },
      { name: 'inference', kind: 'inference', unet: unetDefaults, batch: benchDefaults.inferBatch },
      { name: 'SFD iteration', kind: 'sfd', unet: unetDefaults, batch: benchDefaults.sfdBatch },
      { name: 'SFD iteration, MNIST teacher', kind: 'sfd', unet: mnistTeacherUNet, batch: sfdDefaults.batch },
    ],
    reps,
  );
  console.log('workload                      native ms  PyTorch ms  native speed vs PyTorch');
  for (const p of peer) {
    const n = rows.find((r) => r.backend === 'native' && r.workload === p.workload);
    if (!n) continue;
    const sfd = p.workload.startsWith('SFD')
      ? `; ${((1000 * p.batch) / n.msPerStep).toFixed(1)} vs ${((1000 * p.batch) / p.msPerStep).toFixed(1)} trajectories/s`
      : '';
    console.log(
      `${p.workload.padEnd(28)}  ${n.msPerStep.toFixed(0).padStart(9)}  ${p.msPerStep.toFixed(0).padStart(10)}  ${(p.msPerStep / n.msPerStep).toFixed(2)}×${sfd}`,
    );
    console.log(
      JSON.stringify({ bench: 'peer', ...p, nativeMs: n.msPerStep, nativeVsPeer: p.msPerStep / n.msPerStep }),
    );
  }
}

/** Runs the CLI; returns the process exit code. Errors are printed as one line, not a stack. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'info') await info();
    else if (cmd === 'sample') await sample(rest);
    else if (cmd === 'bench') await bench(rest);
    else if (cmd === 'train-teacher') await trainTeacherCommand(rest);
    else if (cmd === 'train-features') await trainFeaturesCommand(rest);
    else if (cmd === 'distill') await distillCommand(rest);
    else if (cmd === 'eval') await evalCommand(rest);
    else if (cmd === 'gallery') await galleryCommand(rest);
    else if (cmd === 'gpu-check') return await gpuCheckCommand(rest);
    else if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') console.log(HELP);
    else throw new RangeError(`unknown command '${cmd}'\n\n${HELP}`);
    return 0;
  } catch (e) {
    console.error(`sfd ${cmd ?? ''}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
