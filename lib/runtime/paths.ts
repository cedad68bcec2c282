import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The repository root: the nearest folder above the cwd whose package.json names sfd-lab. */
export function repoRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && require(pkg).name === 'sfd-lab') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`not inside the sfd-lab repository (searched up from ${from})`);
    dir = up;
  }
}

/** Path of a file in figures/ (the folder is created on demand). */
export function figurePath(name: string): string {
  const dir = join(repoRoot(), 'figures');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
