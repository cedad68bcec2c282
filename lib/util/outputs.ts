import { accessSync, constants, existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../runtime/paths';

/**
 * Output-location checks every command runs before it starts work, so that nothing shipped is
 * overwritten by accident and a bad path fails at once rather than after an hour of training.
 */

/** True for paths inside the project's `data/` folder (shipped weights, cards, statistics). */
export function isShipped(path: string): boolean {
  const rel = relative(join(repoRoot(), 'data'), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/** True if a directory already holds a model (model.json) or a training run (checkpoint). */
export function holdsModel(dir: string): boolean {
  return existsSync(join(dir, 'model.json')) || existsSync(join(dir, 'checkpoint', 'checkpoint.json'));
}

/** Creates `dir` if needed and proves it writable with a probe file; throws a one-line reason otherwise. */
export function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    const probe = join(dir, `.sfd-write-probe-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new Error(`cannot write to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * A fresh output directory for a model or run: refused if it already holds one (unless `resuming` it) or
 * lies in the shipped `data/` folder (unless `allowShipped`, for the scripts that make shipped models).
 */
export function ensureModelOutDir(
  dir: string,
  opts: { resuming?: boolean; allowShipped?: boolean; flag?: string } = {},
): void {
  const flag = opts.flag ?? '--out';
  if (isShipped(dir) && !opts.allowShipped)
    throw new Error(
      `${flag} ${dir} is shipped with the project and is never written to; choose another ${flag}`,
    );
  if (!opts.resuming && holdsModel(dir))
    throw new Error(`${flag} ${dir} already holds a model or run; choose another ${flag} (or --resume it)`);
  ensureWritableDir(dir);
}

/** An output file: its folder must exist and be writable, and it must not be a shipped file. */
export function ensureWritableFile(path: string, flag = '--out'): void {
  if (isShipped(path) && existsSync(path))
    throw new Error(`${flag} ${path} is shipped with the project and is never overwritten`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new Error(`${flag} ${path}: folder ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${flag} ${path}: folder ${dir} is not writable`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`${flag} ${path} is a directory`);
}
