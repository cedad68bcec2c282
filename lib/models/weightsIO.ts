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

export interface LoadWeightsOptions {
  /** What the file should be, for errors ("model.json of DIR", "a samples file"). */
  what?: string;
  /**
   * Load a file whose JSON carries no sha256 (a hand-made model), with a warning on stderr. Every file
   * sfd-lab writes has one: without this, a file lacking it is refused, since its binary cannot be checked.
   */
  unchecked?: boolean;
}

/** A short name for a file that is binary data, not JSON (by its first bytes), or null. */
function binaryKind(head: Uint8Array): string | null {
  const starts = (sig: number[]) => sig.every((b, i) => head[i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47])) return 'a PNG image';
  if (starts([0xff, 0xd8, 0xff])) return 'a JPEG image';
  if (starts([0x1f, 0x8b])) return 'gzip data';
  if (starts([0x50, 0x4b, 0x03, 0x04])) return 'a zip archive';
  if (head.subarray(0, 512).includes(0)) return 'binary data';
  return null;
}

/** Reads a JSON file sfd-lab wrote, naming the file and what it should be when it is not JSON. */
export function readJsonFile(path: string, what: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Error(`${what} not found: ${path}`);
  const raw = readFileSync(path);
  const kind = binaryKind(raw);
  if (kind) throw new Error(`${path} is ${kind}, not ${what} (a JSON file)`);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new Error(`${path} is not valid JSON (expected ${what}): ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new Error(`${path} is not ${what} (a JSON object)`);
  return json as Record<string, unknown>;
}

export function loadWeights<M>(
  jsonPath: string,
  opts: LoadWeightsOptions = {},
): WeightsFile<M> & { sha256: string; binPath: string } {
  const what = opts.what ?? 'a weights file';
  // biome-ignore lint/suspicious/noExplicitAny: a manifest as written by saveWeights, checked below
  const json = readJsonFile(jsonPath, what) as any;
  const group = json.weightsManifest?.[0];
  if (!group || !Array.isArray(group.paths) || group.paths.length !== 1)
    throw new Error(`${jsonPath}: not ${what} (no single-file weightsManifest)`);
  const binPath = join(dirname(jsonPath), basename(group.paths[0]));
  if (!existsSync(binPath)) throw new Error(`${jsonPath} names ${binPath}, which is missing`);
  const bin = new Uint8Array(readFileSync(binPath));
  const hash = sha256(bin);
  if (typeof json.sha256 !== 'string') {
    if (!opts.unchecked)
      throw new Error(
        `${jsonPath} carries no sha256 of ${basename(binPath)}, so it cannot be checked (every file sfd-lab writes has one); a hand-made model loads with --unchecked`,
      );
    console.error(
      `warning: ${jsonPath} has no sha256: ${basename(binPath)} is loaded unchecked (sha256 ${hash})`,
    );
  } else if (hash !== json.sha256)
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
