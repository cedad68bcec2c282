import * as tf from '@tensorflow/tfjs';
import { mnistTeacherUNet } from '../models/mnistTeacher';
import { createUNet, type UNetConfig } from '../models/unet';
import { sfdDefaults } from '../sfd/config';
import { sfdIteration } from '../sfd/iteration';
import { Adam } from '../train/adam';
import { sfdBenchContext } from './benchmark';

/** One kernel's share of a profiled step. */
export interface KernelProfileRow {
  kernel: string;
  calls: number;
  ms: number;
  /** Of the profiled step's wall time. */
  share: number;
}

export interface KernelProfile {
  /** Median wall time of the step, unprofiled. */
  wallMs: number;
  /** Wall time of the profiled step (each kernel timed, so a little slower). */
  profiledWallMs: number;
  /** Time inside kernels; the rest of the profiled wall is dispatch, tape, allocation and JS between them. */
  kernelMs: number;
  kernelCalls: number;
  rows: KernelProfileRow[];
}

/**
 * Where a step's time goes, kernel by kernel (tf.profile): each registered kernel's calls and time. Scopes
 * that wrap other kernels (an op's custom gradient, "unnamed scope") are left out, so nothing is counted twice.
 */
export async function profileStep(step: () => Promise<unknown>, reps = 5): Promise<KernelProfile> {
  for (let i = 0; i < 2; i++) await step(); // warm-up: primitives compiled, pools filled
  const walls: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await step();
    walls.push(performance.now() - t);
  }
  walls.sort((a, b) => a - b);
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await step();
  });
  const profiledWallMs = performance.now() - t0;
  const backend = tf.getBackend();
  const by = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    if (!tf.getKernel(k.name, backend)) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms;
    by.set(k.name, e);
  }
  const rows = [...by.entries()]
    .map(([kernel, e]) => ({ kernel, ...e, share: e.ms / profiledWallMs }))
    .sort((a, b) => b.ms - a.ms);
  return {
    wallMs: walls[Math.floor(reps / 2)],
    profiledWallMs,
    kernelMs: rows.reduce((s, r) => s + r.ms, 0),
    kernelCalls: rows.reduce((s, r) => s + r.calls, 0),
    rows,
  };
}

/**
 * The trainer's SFD iteration at the MNIST teacher's architecture and default batch (NFE 2, AFS,
 * DPM-Solver++(3M) teacher with K = 4: 12 teacher calls, then 2 trained student steps), profiled.
 * `overrides` shrink the network for tests.
 */
export async function profileSfdIteration(
  overrides: Partial<UNetConfig> = {},
  batch = sfdDefaults.batch,
  reps = 5,
): Promise<KernelProfile> {
  const u = createUNet({ ...(mnistTeacherUNet as UNetConfig), ...overrides }, 1);
  const adam = new Adam(u.weights);
  const ctx = sfdBenchContext(u, adam, batch);
  let it = 0;
  try {
    return await profileStep(() => sfdIteration(ctx, it++, 1e-5), reps);
  } finally {
    adam.dispose();
    u.dispose();
  }
}

/** The profile as a fixed-width table, with the time outside kernels as its last line. */
export function formatKernelProfile(p: KernelProfile, top = 20): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = [
    `wall ${p.wallMs.toFixed(1)} ms (median); profiled ${p.profiledWallMs.toFixed(1)} ms, of which ${p.kernelMs.toFixed(1)} ms in ${p.kernelCalls} kernel calls`,
    `${'kernel'.padEnd(26)}${'calls'.padStart(7)}${'ms'.padStart(9)}${'µs/call'.padStart(9)}${'share'.padStart(9)}`,
  ];
  for (const r of p.rows.slice(0, top))
    lines.push(
      `${r.kernel.padEnd(26)}${String(r.calls).padStart(7)}${r.ms.toFixed(1).padStart(9)}${((1000 * r.ms) / r.calls).toFixed(0).padStart(9)}${pct(r.share).padStart(9)}`,
    );
  const rest = p.rows.slice(top);
  if (rest.length)
    lines.push(
      `${`(${rest.length} more kernels)`.padEnd(26)}${String(rest.reduce((s, r) => s + r.calls, 0)).padStart(7)}${rest
        .reduce((s, r) => s + r.ms, 0)
        .toFixed(1)
        .padStart(9)}`,
    );
  const outside = p.profiledWallMs - p.kernelMs;
  lines.push(
    `${'outside kernels'.padEnd(26)}${''.padStart(7)}${outside.toFixed(1).padStart(9)}${''.padStart(9)}${pct(outside / p.profiledWallMs).padStart(9)}`,
  );
  return lines.join('\n');
}
