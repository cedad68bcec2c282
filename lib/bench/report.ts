import { mnistTeacherUNet } from '../models/mnistTeacher';
import { unetDefaults } from '../models/unet';
import { loadAddon } from '../runtime/native/addon';
import { sfdDefaults } from '../sfd/config';
import {
  type BenchConfig,
  type BenchRow,
  benchDefaults,
  formatBenchTable,
  lossCurveParity,
  repsFor,
  runBenchmark,
  sfdTargetReport,
} from './benchmark';
import { checkPeer, PEER_ENV_ALLOWED, PEER_OWN_SETTINGS, peerAvailable, runPeer } from './peerBench';

/**
 * The benchmark's report (what `sfd bench` prints): the machine's peaks, the table per backend and
 * workload, the PyTorch peer beside the native backend, the SFD targets and the wasm/native loss-curve
 * parity; each result as a human line and as a JSON line. `progress` gets the timing progress.
 */
export async function benchReport(
  cfg: BenchConfig,
  print: (line: string) => void,
  progress: (s: string) => void = () => {},
): Promise<void> {
  const { peak, fma, rows } = await runBenchmark(cfg, progress);
  const { addon } = loadAddon();
  if (addon) print(`BLAS: ${addon.config().blas}; convolutions: ${addon.config().conv}`);
  print(`sgemm (2048², OpenBLAS, this run): ${peak === null ? 'n/a' : `${peak.toFixed(1)} GFLOP/s`}`);
  print(`fp32 FMA peak (native FMA chains, this run): ${fma === null ? 'n/a' : `${fma.toFixed(1)} GFLOP/s`}`);
  const repsLine = cfg.backends.map((b) => `${b} ${repsFor(cfg, b)}`).join(', ');
  print(
    `each time: the median of timed repetitions after one warm-up (${repsLine}; the PyTorch peer ${cfg.reps})`,
  );
  print(formatBenchTable(rows));
  for (const r of rows) print(JSON.stringify({ bench: 'sfd', sgemmGflops: peak, fmaPeakGflops: fma, ...r }));
  await peerComparison(rows, cfg.reps, print);
  const t = sfdTargetReport();
  if (!t)
    print('SFD targets: no shipped NFE-2 student with an N = 5000 evaluation (scripts/ship-students.sh)');
  else {
    const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
    print(
      `SFD at NFE 2 (shipped student, default config): ${t.minutes.toFixed(1)} CPU-min on ${t.backend}${t.cachedTargetIterations ? ` (teacher trajectories of ${t.cachedTargetIterations} iterations from the cache: not a measure of the cost)` : ''} (target ≤ 10: ${mark(t.fastEnough)}); ` +
        `FID ${t.fid.toFixed(2)} (N = 5000) vs DPM-Solver++(3M) ${t.dpm5.toFixed(2)} at NFE 5 (below it: ${mark(t.beatsDpm5)}) ` +
        `and ${t.dpm10.toFixed(2)} at NFE 10 (≤ 1.15×, ${(1.15 * t.dpm10).toFixed(2)}: ${mark(t.within115OfDpm10)})`,
    );
    print(JSON.stringify({ bench: 'sfd-targets', ...t }));
  }
  if (addon) {
    const p = await lossCurveParity(['wasm', 'native'], 200);
    const last = (b: string) => p.curves[b][p.steps - 1].toFixed(5);
    print(
      `loss-curve parity, ${p.steps} Adam steps of a small UNet from one seed: final loss wasm ${last('wasm')}, native ${last('native')}; largest relative difference over the curve ${p.maxRelDiff.toExponential(2)}`,
    );
    print(
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
export async function peerComparison(
  rows: BenchRow[],
  reps: number,
  print: (line: string) => void,
): Promise<void> {
  const avail = peerAvailable();
  if (avail.ok === false) {
    print(`PyTorch peer: skipped (${avail.reason})`);
    return;
  }
  for (const [name, u] of [
    ['bench UNet', unetDefaults],
    ['MNIST teacher', mnistTeacherUNet],
  ] as const) {
    const c = await checkPeer(u);
    print(
      `PyTorch ${avail.version} peer computes the ${name} (${c.params} parameters) to within ${c.maxAbsDiff.toExponential(1)} (outputs up to ${c.maxAbs.toFixed(3)})`,
    );
  }
  const peer = runPeer(
    [
      { name: 'train step', kind: 'train', unet: unetDefaults, batch: benchDefaults.trainBatch },
      { name: 'inference', kind: 'inference', unet: unetDefaults, batch: benchDefaults.inferBatch },
      { name: 'SFD iteration', kind: 'sfd', unet: unetDefaults, batch: benchDefaults.sfdBatch },
      { name: 'SFD iteration, MNIST teacher', kind: 'sfd', unet: mnistTeacherUNet, batch: sfdDefaults.batch },
      {
        name: 'train step, MNIST teacher',
        kind: 'train',
        unet: mnistTeacherUNet,
        batch: benchDefaults.trainBatch,
      },
    ],
    reps,
  );
  print(
    `PyTorch peer in a clean environment (${PEER_ENV_ALLOWED.join(', ')} inherited; its own OMP_NUM_THREADS and ${Object.entries(
      PEER_OWN_SETTINGS,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}), each workload in NCHW and channels_last, each in a fresh process, the faster kept:`,
  );
  print('workload                      native ms  PyTorch ms  (layout)       native speed vs PyTorch');
  for (const p of peer) {
    const n = rows.find((r) => r.backend === 'native' && r.workload === p.workload);
    if (!n) continue;
    const sfd = p.workload.startsWith('SFD')
      ? `; ${((1000 * p.batch) / n.msPerStep).toFixed(1)} vs ${((1000 * p.batch) / p.msPerStep).toFixed(1)} trajectories/s`
      : '';
    print(
      `${p.workload.padEnd(28)}  ${n.msPerStep.toFixed(0).padStart(9)}  ${p.msPerStep.toFixed(0).padStart(10)}  ${`(${p.layout})`.padEnd(15)}${(p.msPerStep / n.msPerStep).toFixed(2)}×${sfd}`,
    );
    print(
      JSON.stringify({ bench: 'peer', ...p, nativeMs: n.msPerStep, nativeVsPeer: p.msPerStep / n.msPerStep }),
    );
  }
}
