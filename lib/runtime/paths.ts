import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FAST } from './profile';

/**
 * The repository root: the nearest folder above `from` (default: this file, so that shipped data is found
 * from any working directory) whose package.json names sfd-lab, searched from `from`'s real path.
 */
export function repoRoot(from = __dirname): string {
  // through symlinks (a notebook folder elsewhere reaches lib/ by a link named lib)
  let dir = existsSync(from) ? realpathSync(from) : resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && require(pkg).name === 'sfd-lab') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`not inside the sfd-lab repository (searched up from ${from})`);
    dir = up;
  }
}

/**
 * Path of an exported figure: figures/<name> for full runs; under FAST=1 (tests, CI) .cache/figures-fast/<name>,
 * so that a smoke run never overwrites the committed figures. The folder is created on demand.
 */
export function figurePath(name: string): string {
  const dir = join(repoRoot(), ...(FAST ? ['.cache', 'figures-fast'] : ['figures']));
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
