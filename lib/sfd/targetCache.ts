import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadWeights, saveWeights } from '../models/weightsIO';
import { canonicalJson } from '../util/canonicalJson';

/** Everything that determines an iteration's teacher states (so equal keys mean equal targets). */
/**
 * Bumped whenever what produces teacher states changes (solvers, thresholding, AFS, noise streams), so
 * entries written by older code are never served.
 */
export const TARGET_CACHE_VERSION = 1;

export interface TargetKey {
  teacherSha256: string;
  solver: string;
  threshold: boolean;
  teacherAfs: boolean;
  k: number;
  /** Student timestamps N and the schedule: together they fix both grids. */
  n: number;
  schedule: object;
  seed: number;
  iteration: number;
  batch: number;
  shape: number[];
}

export type TargetSource = (key: TargetKey, solve: () => tf.Tensor[]) => Promise<tf.Tensor[]>;

export interface TargetCacheStats {
  hits: number;
  misses: number;
  /** Entries found corrupt (hash mismatch, unreadable) and regenerated. */
  corrupt: number;
  evicted: number;
}

/**
 * Teacher trajectories on disk, generated once and reused by every run that shares them (experiment
 * sweeps over the student's loss, learning rate, AFS or conditioning draw the same teacher states). Each
 * entry is a hashed weights file named by the hash of its key; a corrupt entry is regenerated, never used;
 * the cache stays under `maxBytes` by dropping the least recently written entries.
 */
export function targetCache(opts: { dir: string; maxBytes: number }): {
  targets: TargetSource;
  stats: TargetCacheStats;
  dir: string;
} {
  const { dir, maxBytes } = opts;
  const stats: TargetCacheStats = { hits: 0, misses: 0, corrupt: 0, evicted: 0 };
  let total: number | null = null;
  const usage = () => {
    if (total === null) {
      mkdirSync(dir, { recursive: true });
      total = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    }
    return total;
  };
  const evict = () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => a.t - b.t);
    for (const { f } of files) {
      if ((total as number) <= maxBytes) break;
      for (const p of [join(dir, f), join(dir, f.replace(/\.json$/, '.bin'))]) {
        if (!existsSync(p)) continue;
        total = (total as number) - statSync(p).size;
        unlinkSync(p);
      }
      stats.evicted++;
    }
  };
  const targets: TargetSource = async (key, solve) => {
    const full = { ...key, version: TARGET_CACHE_VERSION, backend: tf.getBackend() };
    const id = createHash('sha256').update(canonicalJson(full)).digest('hex').slice(0, 32);
    const json = join(dir, `${id}.json`);
    if (existsSync(json)) {
      let f: ReturnType<typeof loadWeights<{ key: object }>> | null = null;
      try {
        f = loadWeights<{ key: object }>(json, { what: 'a trajectory cache entry' });
        if (canonicalJson(f.meta.key) !== canonicalJson(full)) throw new Error('key mismatch');
        const out = Array.from({ length: f.tensors.size }, (_, j) => f?.tensors.get(`t${j}`) as tf.Tensor);
        if (out.some((t) => !t || t.shape.join() !== [key.batch, ...key.shape].join()))
          throw new Error('bad shapes');
        stats.hits++;
        return out;
      } catch {
        if (f) tf.dispose([...f.tensors.values()]);
        stats.corrupt++;
      }
    }
    stats.misses++;
    const out = solve();
    usage();
    const m = new Map(out.map((t, j) => [`t${j}`, t]));
    try {
      const { bytes } = await saveWeights(json, `${id}.bin`, m, { format: 'sfd-teacher-targets', key: full });
      total = (total as number) + bytes + 1024;
      if ((total as number) > maxBytes) evict();
    } catch {
      // a full or read-only disk only loses the cache entry
    }
    return out;
  };
  return { targets, stats, dir };
}
