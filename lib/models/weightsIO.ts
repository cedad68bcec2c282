import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../util/atomicWrite';

/**
 * Named tensors on disk in tfjs's weights format: a JSON file with a `weightsManifest` (names, shapes,
 * dtypes) plus one binary file, and the binary's sha256 so that a changed or truncated file is refused.
 * The binary is written first and the JSON last (both atomically), so the JSON always names a complete binary.
 */
export interface WeightsFile<M> {
  meta: M;
  tensors: Map<string, tf.Tensor>;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function saveWeights<M extends object>(
  jsonPath: string,
  binName: string,
  tensors: Map<string, tf.Tensor>,
  meta: M,
): Promise<{ sha256: string; bytes: number }> {
  const { data, specs } = await tf.io.encodeWeights(Object.fromEntries(tensors));
  const bin = new Uint8Array(data);
  const hash = sha256(bin);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileAtomic(join(dirname(jsonPath), binName), bin);
  const manifest = { ...meta, weightsManifest: [{ paths: [binName], weights: specs }], sha256: hash };
  writeFileAtomic(jsonPath, `${JSON.stringify(manifest, null, 1)}\n`);
  return { sha256: hash, bytes: bin.length };
}

export function loadWeights<M>(jsonPath: string): WeightsFile<M> & { sha256: string; binPath: string } {
  if (!existsSync(jsonPath)) throw new Error(`weights file not found: ${jsonPath}`);
  const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const group = json.weightsManifest?.[0];
  if (!group || !Array.isArray(group.paths) || group.paths.length !== 1)
    throw new Error(`${jsonPath}: not an sfd-lab weights file (no single-file weightsManifest)`);
  const binPath = join(dirname(jsonPath), basename(group.paths[0]));
  if (!existsSync(binPath)) throw new Error(`${jsonPath} names ${binPath}, which is missing`);
  const bin = new Uint8Array(readFileSync(binPath));
  const hash = sha256(bin);
  if (json.sha256 && hash !== json.sha256)
    throw new Error(`${binPath} is corrupt or was changed: sha256 ${hash}, expected ${json.sha256}`);
  const decoded = tf.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    group.weights,
  );
  const { weightsManifest: _m, sha256: _s, ...meta } = json;
  return { meta: meta as M, tensors: new Map(Object.entries(decoded)), sha256: hash, binPath };
}

/**
 * Copies loaded values into existing variables, checking that names and shapes match exactly. Weights
 * for which `keepOwn` is true may be absent from the source and then keep their current values (a
 * step-conditioned student loading its teacher keeps its own zero-initialised step path).
 */
export function assignWeights(
  target: Map<string, tf.Variable>,
  source: Map<string, tf.Tensor>,
  what: string,
  keepOwn: (name: string) => boolean = () => false,
): void {
  const missing = [...target.keys()].filter((k) => !source.has(k) && !keepOwn(k));
  const extra = [...source.keys()].filter((k) => !target.has(k));
  if (missing.length || extra.length)
    throw new Error(
      `${what}: weights do not match the architecture (missing: ${missing.slice(0, 5).join(', ') || 'none'}; unexpected: ${extra.slice(0, 5).join(', ') || 'none'})`,
    );
  for (const [k, v] of target) {
    const s = source.get(k);
    if (!s) continue; // one of its own (keepOwn)
    if (s.shape.join() !== v.shape.join())
      throw new Error(`${what}: weight ${k} has shape [${s.shape}], the architecture expects [${v.shape}]`);
    v.assign(s);
  }
}

/** Removes a file if present (old checkpoint binaries). */
export function removeIfPresent(path: string): void {
  if (existsSync(path)) unlinkSync(path);
}
