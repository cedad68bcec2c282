import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The lock file a run holds in its output directory for as long as it writes there. */
export const RUN_LOCK = '.sfd-run.lock';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Takes the exclusive lock of an output directory (a file created with O_EXCL holding the owner's pid),
 * so that two runs writing one directory cannot both succeed with only one result surviving. A second run
 * fails at once naming the first; a lock left by a process that no longer runs (killed) is reported on
 * `warn` and taken over. Returns the release function (idempotent; also run at process exit).
 */
export function acquireRunLock(
  dir: string,
  command: string,
  warn: (line: string) => void = (l) => console.error(l),
): () => void {
  const path = join(dir, RUN_LOCK);
  const me: LockOwner = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' || attempt > 0)
        throw new Error(`cannot write to ${dir}: ${code ?? (e as Error).message}`);
    }
    let owner: Partial<LockOwner> = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      // a lock being written this instant, or garbage: treated as held by an unknown, live owner
    }
    const who = `pid ${owner.pid ?? '?'}${owner.command ? `, '${owner.command}'` : ''}${owner.started ? `, started ${owner.started}` : ''}`;
    if (owner.pid === undefined || owner.host !== me.host || alive(owner.pid))
      throw new Error(
        `${dir} is in use by another run (${who}); wait for it, or choose another output (if no such run exists, delete ${path})`,
      );
    warn(`${dir}: clearing the stale lock of a run that no longer runs (${who})`);
    unlinkSync(path);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    try {
      unlinkSync(path);
    } catch {
      // already gone (the directory was removed)
    }
  };
  process.on('exit', release);
  return release;
}
