import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../runtime/paths';
import { RUN_LOCK } from './runLock';

/**
 * Output-location checks every command runs before it starts work, so that nothing shipped or of the
 * user's is overwritten by accident and a bad path fails at once rather than after an hour of training.
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

function reason(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * Creates `dir` one level at a time from its nearest existing ancestor. (Node 20's
 * `mkdirSync(…, {recursive: true})` loops forever under /proc, which cannot hold folders.)
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  if (!statSync(p).isDirectory()) throw new Error(`${p} is a file, not a folder`);
  for (const m of missing)
    try {
      mkdirSync(m);
    } catch (e) {
      throw new Error(`${dirname(m)} cannot hold a new folder (${reason(e)})`);
    }
}

/** Proves a folder can hold a new file: creates and removes a probe (access(2) says yes to root on /proc). */
function probeWritable(dir: string): void {
  const probe = join(dir, `.sfd-write-probe-${process.pid}`);
  closeSync(openSync(probe, 'wx'));
  unlinkSync(probe);
}

/** Creates `dir` if needed and proves it writable with a probe file; throws a one-line reason otherwise. */
export function ensureWritableDir(dir: string): void {
  try {
    makeDirs(dir);
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    probeWritable(dir);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ? reason(e) : (e as Error).message;
    throw new Error(`cannot write to ${dir}: ${why}`);
  }
}

/**
 * A fresh output directory for a model or run: refused if it already holds one (unless `resuming` it),
 * if it holds anything else (the command would replace files it did not write), or if it lies in the
 * shipped `data/` folder (unless `allowShipped`, for the scripts that make shipped models).
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
  if (!opts.resuming && existsSync(dir) && statSync(dir).isDirectory()) {
    // (a lock, or the empty checkpoint folder of a run that stopped before its first checkpoint, are its own)
    const emptyDir = (f: string) =>
      statSync(join(dir, f)).isDirectory() && readdirSync(join(dir, f)).length === 0;
    const foreign = readdirSync(dir).filter((f) => f !== RUN_LOCK && !(f === 'checkpoint' && emptyDir(f)));
    if (foreign.length)
      throw new Error(
        `${flag} ${dir} is not empty (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}) and holds no run of this command; choose a new or empty folder`,
      );
  }
  ensureWritableDir(dir);
}

/**
 * An output file: its folder must exist and take a new file, and it must not lie in the shipped `data/`
 * folder (a shipped file is never replaced, and nothing is added beside the shipped ones).
 */
export function ensureWritableFile(path: string, flag = '--out'): void {
  if (isShipped(path))
    throw new Error(
      `${flag} ${path} is in the project's shipped data/ folder, which is never written to; choose another ${flag}`,
    );
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new Error(`${flag} ${path}: folder ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`${flag} ${path} is a directory`);
  try {
    probeWritable(dir);
  } catch (e) {
    throw new Error(`${flag} ${path}: folder ${dir} cannot hold a new file (${reason(e)})`);
  }
}
