import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointJson, readCheckpoint, writeCheckpoint } from '../../lib/train/checkpoint';

/** Writes checkpoint `step` of `n` float32 weights into `run`. */
async function write(run: string, step: number, n: number): Promise<void> {
  const w = tf.fill([n], step);
  try {
    await writeCheckpoint(checkpointJson(run), { model: new Map([['w', w]]) }, { format: 'test-ck', step });
  } finally {
    w.dispose();
  }
}

/** The previous checkpoint reads back whole, and no partial file is left beside it. */
function assertPreviousIntact(run: string, step: number): void {
  const ck = readCheckpoint(checkpointJson(run), 'test-ck');
  try {
    assert.equal(ck.meta.step, step);
    assert.equal(ck.groups.model.get('w')?.dataSync()[0], step);
  } finally {
    ck.dispose();
  }
  const left = fs.readdirSync(join(run, 'checkpoint')).sort();
  assert.deepEqual(left, ['checkpoint-0000001.bin', 'checkpoint.json']);
}

describe('a checkpoint write that runs out of disk', () => {
  it('with an injected ENOSPC part-way through: the error says the disk is full, the previous checkpoint is intact', async () => {
    const run = fs.mkdtempSync(join(tmpdir(), 'sfd-diskfull-'));
    // the CommonJS module object itself (an ES namespace's bindings are read-only): lib's fs calls read it
    const nodeFs = require('node:fs') as { writeSync: typeof fs.writeSync };
    const real = nodeFs.writeSync;
    try {
      await write(run, 1, 64);
      let written = 0;
      // the disk fills after 100 more bytes
      nodeFs.writeSync = ((fd: number, buf: Uint8Array, off: number, len: number) => {
        if (written + len > 100) {
          const e = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
          e.code = 'ENOSPC';
          throw e;
        }
        written += len;
        return real(fd, buf, off, len);
      }) as typeof fs.writeSync;
      await assert.rejects(
        write(run, 2, 1024),
        /checkpoint at step 2 not written: the disk is full: no space left in .* the previous checkpoint .* is intact/,
      );
    } finally {
      nodeFs.writeSync = real;
    }
    assertPreviousIntact(run, 1);
    fs.rmSync(run, { recursive: true, force: true });
  });

  it('on a real 64 KiB tmpfs (where this machine lets the test mount one)', async function () {
    const mnt = fs.mkdtempSync(join(tmpdir(), 'sfd-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      fs.rmSync(mnt, { recursive: true, force: true });
      this.skip(); // not root, or no CAP_SYS_ADMIN: the injected test above covers the code path
    }
    try {
      await write(mnt, 1, 1024); // 4 KiB
      await assert.rejects(
        write(mnt, 2, 32 * 1024),
        /the disk is full: .* the previous checkpoint .* is intact/,
      );
      assertPreviousIntact(mnt, 1);
    } finally {
      execFileSync('umount', [mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });
});
