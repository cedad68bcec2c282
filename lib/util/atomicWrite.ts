import { renameSync, writeFileSync } from 'node:fs';

/** Writes through a temporary file and a rename, so a reader (or a crash) never sees half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
