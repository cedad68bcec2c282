import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { quickFid } from '../eval/quickFid';
import { studentSfd } from '../models/card';
import { mnistTeacherUNet } from '../models/mnistTeacher';
import { loadImageTeacher } from '../models/teachers';
import { type UNetConfig, unetDefaults } from '../models/unet';
import { initBackend } from '../runtime/backend';
import { sfdDefaults } from '../sfd/config';
import { studentSampler } from '../sfd/sampleStudent';
import { trainSfd } from '../sfd/train';
import { type BenchConfig, runBenchmark } from './benchmark';
import { compareCheck, NUMERICS_CHECKS, smallUNet } from './gpuNumerics';
import type { PeerWorkload } from './peerBench';

/**
 * What the GPU bundle runs on a GPU machine (and, `tiny`, on lavapipe in the tests): the adapter, the
 * numerics against the cpu backend, the benchmark (UNet training step at batch 64 and 256, inference at
 * 1024, the trainer's SFD iteration), then a complete SFD NFE-2 distillation of the shipped teacher with its
 * FID at N = 5000. Every result is one JSON line in `<out>/gpu-check.jsonl`; `<out>/peer-spec.json` holds
 * the same timed workloads for the PyTorch peer, which the bundle's script runs next.
 */
export interface GpuCheckConfig {
  out: string;
  /** Small shapes and a two-iteration distillation: the end-to-end test on a software adapter. */
  tiny: boolean;
}

export function gpuCheckPlan(tiny: boolean): {
  bench: BenchConfig;
  distill: { iterations: number; batch: number; fidN: number };
} {
  const bench: BenchConfig = tiny
    ? {
        backends: ['webgpu'],
        trainBatch: 2,
        moreTrainBatches: [4],
        inferBatch: 4,
        sfdBatch: 2,
        reps: 1,
        unet: { ...smallUNet, stepCondition: false },
        mnistTeacherSfd: false,
      }
    : {
        backends: ['webgpu'],
        trainBatch: 64,
        moreTrainBatches: [256],
        inferBatch: 1024,
        sfdBatch: 16,
        reps: 5,
      };
  return {
    bench,
    distill: tiny
      ? { iterations: 2, batch: 2, fidN: 20 }
      : { iterations: sfdDefaults.iterations, batch: sfdDefaults.batch, fidN: 5000 },
  };
}

/** The bench's timed workloads, for the PyTorch peer (bench/peers/unet_torch.py) on the same GPU. */
export function peerWorkloads(bench: BenchConfig): PeerWorkload[] {
  const unet = { ...unetDefaults, ...bench.unet } as UNetConfig;
  const w: PeerWorkload[] = [{ name: 'train step', kind: 'train', unet, batch: bench.trainBatch }];
  for (const b of bench.moreTrainBatches ?? [])
    w.push({ name: `train step, batch ${b}`, kind: 'train', unet, batch: b });
  w.push({ name: 'inference', kind: 'inference', unet, batch: bench.inferBatch });
  w.push({ name: 'SFD iteration', kind: 'sfd', unet, batch: bench.sfdBatch });
  if (bench.mnistTeacherSfd !== false)
    w.push({
      name: 'SFD iteration, MNIST teacher',
      kind: 'sfd',
      unet: mnistTeacherUNet as UNetConfig,
      batch: sfdDefaults.batch,
    });
  return w;
}

/**
 * fp32 (non-tensor-core) peaks from the vendors' datasheets, TFLOP/s, by adapter name: what a training
 * step's FLOP rate is a fraction of (WebGPU has no TF32 or tensor-core path).
 */
const FP32_PEAK_TFLOPS: [RegExp, number][] = [
  [/H200/i, 67], // NVIDIA H200 SXM
  [/H100/i, 67], // NVIDIA H100 SXM
];

export function fp32PeakTflops(adapterName: string): number | null {
  return FP32_PEAK_TFLOPS.find(([re]) => re.test(adapterName))?.[1] ?? null;
}

export async function gpuCheck(cfg: GpuCheckConfig, log: (s: string) => void = () => {}): Promise<boolean> {
  mkdirSync(cfg.out, { recursive: true });
  const file = join(cfg.out, 'gpu-check.jsonl');
  writeFileSync(file, '');
  const emit = (row: Record<string, unknown>) => {
    appendFileSync(file, `${JSON.stringify(row)}\n`);
    log(JSON.stringify(row));
  };
  const t0 = performance.now();
  const b = await initBackend('webgpu');
  const name = `${b.adapter?.description ?? ''} ${b.adapter?.device ?? ''}`;
  const peak = fp32PeakTflops(name);
  emit({
    kind: 'adapter',
    ...b.adapter,
    fp32PeakTflops: peak,
    tfjs: tf.version.tfjs,
    node: process.versions.node,
    tiny: cfg.tiny,
  });
  const plan = gpuCheckPlan(cfg.tiny);
  writeFileSync(
    join(cfg.out, 'peer-spec.json'),
    JSON.stringify({ workloads: peerWorkloads(plan.bench), reps: plan.bench.reps, device: 'cuda' }),
  );

  let ok = true;
  for (const c of NUMERICS_CHECKS) {
    const r = await compareCheck(c);
    ok &&= r.ok;
    emit({ kind: 'numerics', ...r });
  }

  const bench = await runBenchmark(plan.bench, log);
  // (ofPeak is the CPU's FMA peak's fraction: meaningless here; the GPU's fp32 peak instead)
  for (const r of bench.rows)
    emit({ kind: 'bench', ...r, ofPeak: undefined, ofGpuFp32Peak: peak ? r.gflops / (peak * 1000) : null });

  // a complete SFD NFE-2 distillation of the shipped teacher (paper defaults), then its FID
  const dir = mkdtempSync(join(tmpdir(), 'sfd-gpu-student-'));
  try {
    const config = {
      ...sfdDefaults,
      nfes: [2],
      iterations: plan.distill.iterations,
      batch: plan.distill.batch,
    };
    const r = await trainSfd({ config, teacher: 'mnist', out: dir, card: { backend: 'webgpu' } });
    const student = loadImageTeacher(dir);
    const sfd = studentSfd(student.card);
    if (!sfd) throw new Error(`${dir} holds no SFD student`);
    const s = studentSampler(student.denoise, sfd.sampling, 2);
    const f = loadFeatureNet();
    const ts = performance.now();
    const fid = await quickFid(s.denoise, [28, 28, 1], s.sampling, plan.distill.fidN, 0, f.net, f.sha256);
    f.net.dispose();
    student.unet.dispose();
    emit({
      kind: 'distill',
      nfe: 2,
      iterations: r.iterations,
      batch: config.batch,
      trainSeconds: r.seconds,
      fidN: plan.distill.fidN,
      fid,
      fidSeconds: (performance.now() - ts) / 1000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  emit({ kind: 'done', ok, seconds: (performance.now() - t0) / 1000 });
  return ok;
}
