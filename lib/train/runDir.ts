import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstDifference, showValue } from '../util/configDiff';
import { ensureModelOutDir, ensureWritableDir } from '../util/outputs';
import { acquireRunLock } from '../util/runLock';
import { CHECKPOINT_FOLDER } from './checkpoint';

/**
 * What every training run (teacher, student) does with its output directory before its first step: the
 * checkpoint it resumes from exists; the directory is new, empty or its own run; the run holds the
 * directory's lock until it ends; the checkpoint folder takes files (so a bad path fails now, not at the
 * first checkpoint). Returns the lock's release.
 */
export function openRunDir(opts: {
  out: string;
  /** The checkpoint a resumed run continues (null: a fresh run). */
  resumeFrom: string | null;
  /** Resuming the run in `out` itself (not continuing another run into a new `out`). */
  resumingOut: boolean;
  allowShipped?: boolean;
  command: string;
}): () => void {
  if (opts.resumeFrom && !existsSync(opts.resumeFrom))
    throw new Error(`--resume: no checkpoint at ${opts.resumeFrom}`);
  const outDir = () =>
    ensureModelOutDir(opts.out, { resuming: opts.resumingOut, allowShipped: opts.allowShipped });
  // a folder another run is writing is named as such first (not as "already holds a run")
  const existed = existsSync(opts.out);
  if (!existed) outDir();
  const release = acquireRunLock(opts.out, opts.command);
  try {
    if (existed) outDir();
    ensureWritableDir(join(opts.out, CHECKPOINT_FOLDER));
  } catch (e) {
    release();
    throw e;
  }
  return release;
}

/**
 * Refuses to resume a checkpoint under a configuration other than its own (naming the first setting that
 * differs and both values), or with a run length (`lengthKey`) below what it has already done.
 */
export function checkResumable<C extends object>(
  ckPath: string,
  was: C,
  now: C,
  lengthKey: keyof C & string,
  done: number,
): void {
  const { [lengthKey]: _a, ...wasRest } = was;
  const { [lengthKey]: _b, ...nowRest } = now;
  const d = firstDifference(wasRest, nowRest);
  if (d)
    throw new Error(
      `--resume: ${ckPath} was made with ${d.setting} = ${showValue(d.was)}, this run has ${showValue(d.now)} (only --${lengthKey} may change)`,
    );
  const length = now[lengthKey] as unknown as number;
  if (length < done)
    throw new Error(
      `--resume: ${ckPath} has done ${done} ${lengthKey} already; --${lengthKey} ${length} is below that`,
    );
}
