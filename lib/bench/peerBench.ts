import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createUNet, type UNetConfig } from '../models/unet';
import { saveUNet } from '../models/unetFiles';
import { repoRoot } from '../runtime/paths';

/** The PyTorch peer of the benchmark (bench/peers/unet_torch.py): the same UNet, layer for layer. */
const PEER = () => join(repoRoot(), 'bench', 'peers', 'unet_torch.py');

/**
 * The Python that can run the peer: the first of python3 on PATH and Debian's /usr/bin/python3 (where
 * `apt-get install python3-torch` puts torch) that imports torch; otherwise the one-line reason.
 */
export function peerAvailable():
  | { ok: true; python: string; version: string }
  | { ok: false; reason: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return { ok: true, python, version: r.stdout.trim() };
  }
  return { ok: false, reason: 'no python3 with torch (Debian: apt-get install python3-torch)' };
}

function python(): string {
  const p = peerAvailable();
  if (p.ok === false) throw new Error(`PyTorch peer unavailable: ${p.reason}`);
  return p.python;
}

export interface PeerCheck {
  maxAbsDiff: number;
  maxAbs: number;
  params: number;
  unusedWeights: string[];
}

/**
 * Loads one seeded UNet's weights into the peer and compares its output with the project's on the same
 * input: the peer runs the same architecture, parameter count and FLOPs, or the comparison means nothing.
 */
export async function checkPeer(config: UNetConfig, batch = 2, cNoise = 0.3, seed = 4): Promise<PeerCheck> {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-peer-'));
  const u = createUNet(config, seed);
  try {
    // non-zero output layers (they start at zero), so every layer shows in the output
    tf.tidy(() => {
      for (const [k, v] of u.weights)
        if (k.startsWith('out.') || k.startsWith('mid.attn.out'))
          v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 9));
    });
    await saveUNet(dir, u.weights, u.config);
    const { resolution: r, inChannels: c } = u.config;
    const x = tf.randomNormal([batch, r, r, c], 0, 1, 'float32', seed + 1);
    const y = u.net(x, cNoise);
    writeFileSync(join(dir, 'input.bin'), Buffer.from(((await x.data()) as Float32Array).slice().buffer));
    writeFileSync(join(dir, 'output.bin'), Buffer.from(((await y.data()) as Float32Array).slice().buffer));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ shape: [batch, r, r, c], cNoise }));
    tf.dispose([x, y]);
    const p = spawnSync(python(), [PEER(), 'check', dir], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`PyTorch peer check failed: ${p.stderr.trim().split('\n').pop()}`);
    const out = JSON.parse(p.stdout.trim()) as PeerCheck;
    if (out.params !== u.params)
      throw new Error(`PyTorch peer has ${out.params} parameters, the project's UNet ${u.params}`);
    return out;
  } finally {
    u.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PeerWorkload {
  name: string;
  kind: 'train' | 'inference' | 'sfd';
  unet: UNetConfig;
  batch: number;
}

export interface PeerRow {
  workload: string;
  batch: number;
  params: number;
  msPerStep: number;
  torch: string;
  threads: number;
  /** The faster of the two memory layouts the peer was timed in (the one msPerStep is for). */
  layout: PeerLayout;
  /** The time of each layout. */
  msByLayout: Partial<Record<PeerLayout, number>>;
}

/** PyTorch's two convolution layouts: NCHW (its default) and channels_last (NHWC, often faster on CPU). */
export type PeerLayout = 'nchw' | 'channels_last';
export const PEER_LAYOUTS: readonly PeerLayout[] = ['nchw', 'channels_last'];

/**
 * What the peer inherits from the environment: only what any program needs (PATH, HOME, locale, temp
 * folder, Python's own path) and the machine's OpenBLAS CPU workaround (set for every program on some
 * processors, the native backend included). No OpenMP/BLAS tuning of this process reaches it (an
 * OMP_WAIT_POLICY=PASSIVE, as the native addon once set for itself, makes PyTorch's OpenMP threads sleep
 * between its many small parallel loops: 344 → 621 ms on the SFD iteration). Then the peer's own settings
 * (PEER_OWN_SETTINGS).
 */
export const PEER_ENV_ALLOWED = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'PYTHONPATH',
  'OPENBLAS_CORETYPE',
  'OPENBLAS_L2_SIZE',
] as const;

/**
 * The peer's own tuning, its best measured configuration here: glibc's malloc kept off mmap (fresh pages
 * for each large tensor would fault on every write), and one thread pool. Debian's torch links OpenBLAS's
 * pthread build, whose threads and torch's OpenMP threads (oneDNN, element-wise loops) then take turns on
 * the cores; with OpenBLAS single-threaded, as the native backend runs it for the same reason, the peer's
 * SFD iteration at the MNIST teacher's shape took 351–444 ms instead of 548–641 (three interleaved rounds
 * on a 2-core EPYC). OpenMP's thread count is the caller's.
 */
export const PEER_OWN_SETTINGS = { MALLOC_MMAP_MAX_: '0', OPENBLAS_NUM_THREADS: '1' } as const;

export function peerEnvironment(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const own: NodeJS.ProcessEnv = {};
  for (const k of PEER_ENV_ALLOWED) if (env[k] !== undefined) own[k] = env[k];
  return { ...own, ...PEER_OWN_SETTINGS, OMP_NUM_THREADS: String(threads) };
}

/**
 * Times the workloads in the peer (same threads as this machine's native backend uses: 2 by default), in
 * both memory layouts, each workload in each layout in a fresh process: after the bench UNet's large batches,
 * the peer's heap slowed the MNIST teacher's SFD iteration by up to a quarter. Each row keeps the faster
 * layout and says which.
 */
export function runPeer(workloads: PeerWorkload[], reps = 3, threads = 2): PeerRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-peer-'));
  try {
    const spec = join(dir, 'spec.json');
    return workloads.map((w) => {
      const mine = PEER_LAYOUTS.map((layout) => {
        writeFileSync(spec, JSON.stringify({ workloads: [w], reps, threads, layouts: [layout] }));
        const p = spawnSync(python(), [PEER(), 'bench', spec], {
          encoding: 'utf8',
          env: peerEnvironment(threads),
        });
        if (p.status !== 0) throw new Error(`PyTorch peer failed: ${p.stderr.trim().split('\n').pop()}`);
        const line = p.stdout.trim().split('\n')[0];
        const row = line ? (JSON.parse(line) as Omit<PeerRow, 'msByLayout'>) : undefined;
        if (!row || row.workload !== w.name)
          throw new Error(`PyTorch peer returned no timing for '${w.name}'`);
        return row;
      });
      const best = mine.reduce((a, b) => (b.msPerStep < a.msPerStep ? b : a));
      return { ...best, msByLayout: Object.fromEntries(mine.map((r) => [r.layout, r.msPerStep])) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
