import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assignWeights, loadWeights, removeIfPresent, saveWeights } from '../models/weightsIO';

/**
 * Training checkpoints shared by teacher and student training: `<run>/checkpoint/checkpoint.json` (meta,
 * manifest, sha256) naming one `checkpoint-NNNNNNN.bin` beside it. The binary is written before the JSON
 * (each atomically) and older binaries are removed only after, so a crash at any moment leaves a
 * complete, hash-checked checkpoint.
 */
export const CHECKPOINT_FOLDER = 'checkpoint';

export function checkpointJson(runDir: string): string {
  return join(runDir, CHECKPOINT_FOLDER, 'checkpoint.json');
}

/** Tensors grouped by role (`model`, `ema`, `adam`…): saved as `<group>/<name>`. */
export type TensorGroups = Record<string, Map<string, tf.Tensor>>;

export interface CheckpointMetaBase {
  /** What wrote it ('sfd-teacher-checkpoint', 'sfd-student-checkpoint'): a reader refuses any other. */
  format: string;
  step: number;
}

export async function writeCheckpoint<M extends CheckpointMetaBase>(
  jsonPath: string,
  groups: TensorGroups,
  meta: M,
): Promise<string> {
  const tensors = new Map<string, tf.Tensor>();
  for (const [g, m] of Object.entries(groups)) for (const [k, v] of m) tensors.set(`${g}/${k}`, v);
  const bin = `checkpoint-${String(meta.step).padStart(7, '0')}.bin`;
  const dir = dirname(jsonPath);
  try {
    await saveWeights<M>(jsonPath, bin, tensors, meta);
  } catch (e) {
    // checkpoint.json still names the previous binary, which is untouched; this one's half is not kept
    if (!namedBinary(jsonPath)?.endsWith(bin)) removeIfPresent(join(dir, bin));
    const previous = existsSync(jsonPath)
      ? `the previous checkpoint (${jsonPath}) is intact`
      : 'no checkpoint was written yet';
    throw new Error(`checkpoint at step ${meta.step} not written: ${(e as Error).message}; ${previous}`);
  }
  for (const f of readdirSync(dir))
    if (/^checkpoint-\d+\.bin$/.test(f) && f !== bin) removeIfPresent(join(dir, f));
  return join(dir, bin);
}

/** The binary a checkpoint.json names, or null if there is none or it cannot be read. */
function namedBinary(jsonPath: string): string | null {
  try {
    return JSON.parse(readFileSync(jsonPath, 'utf8')).weightsManifest[0].paths[0];
  } catch {
    return null;
  }
}

export interface LoadedCheckpoint<M> {
  meta: M;
  groups: TensorGroups;
  sha256: string;
  binPath: string;
  dispose(): void;
}

/** Reads a checkpoint, refusing a missing, corrupt (sha256) or foreign one with a one-line reason. */
export function readCheckpoint<M extends CheckpointMetaBase>(
  jsonPath: string,
  format: M['format'],
): LoadedCheckpoint<M> {
  if (!existsSync(jsonPath)) throw new Error(`no checkpoint at ${jsonPath}`);
  let f: ReturnType<typeof loadWeights<M>>;
  try {
    f = loadWeights<M>(jsonPath, { what: 'a training checkpoint' });
  } catch (e) {
    throw new Error(`checkpoint ${jsonPath} is unreadable: ${(e as Error).message}`);
  }
  const groups: TensorGroups = {};
  for (const [k, t] of f.tensors) {
    const i = k.indexOf('/');
    const g = i < 0 ? '' : k.slice(0, i);
    if (!groups[g]) groups[g] = new Map();
    groups[g].set(k.slice(i + 1), t);
  }
  const dispose = () => tf.dispose([...f.tensors.values()]);
  if (f.meta.format !== format) {
    dispose();
    throw new Error(`${jsonPath} is a '${f.meta.format ?? 'unknown'}' file, not a ${format}`);
  }
  return { meta: f.meta, groups, sha256: f.sha256, binPath: f.binPath, dispose };
}

/** Assigns one group of a checkpoint to variables, checking names and shapes (assignWeights). */
export function restoreGroup(
  ck: LoadedCheckpoint<CheckpointMetaBase>,
  group: string,
  target: Map<string, tf.Variable>,
  jsonPath: string,
): void {
  const src = ck.groups[group];
  if (!src) throw new Error(`${jsonPath}: checkpoint has no '${group}' weights`);
  assignWeights(target, src, `${basename(dirname(dirname(jsonPath)))} checkpoint (${group})`);
}
