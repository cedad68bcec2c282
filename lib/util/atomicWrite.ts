import * as fs from 'node:fs';
import { dirname } from 'node:path';

/** The one-line reason a write failed, saying plainly when the disk is full. */
export function writeFailure(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new Error(`the disk is full: no space left in ${dirname(path)} to write ${path}`);
  return new Error(`cannot write ${path}: ${code ?? (e as Error).message}`);
}

/**
 * Writes through a temporary file and a rename, so a reader (or a crash) never sees half a file. A write
 * that fails part-way (a full disk) removes its temporary file and leaves `path` as it was.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeFailure(path, e);
  }
}
