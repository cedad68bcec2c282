import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRunDir } from '../../lib/train/runDir';
import { RUN_LOCK } from '../../lib/util/runLock';

describe('a training run opens its output directory before its first step', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-rundir-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates it with its checkpoint folder, and holds its lock until released', () => {
    const out = join(dir, 'a', 'b');
    const release = openRunDir({ out, resumeFrom: null, resumingOut: false, command: 'test' });
    assert.ok(existsSync(join(out, 'checkpoint')) && existsSync(join(out, RUN_LOCK)));
    assert.throws(
      () => openRunDir({ out, resumeFrom: null, resumingOut: false, command: 'again' }),
      /in use by another run/,
    );
    release();
    // a run that stopped before its first checkpoint left only an empty checkpoint folder: start again
    openRunDir({ out, resumeFrom: null, resumingOut: false, command: 'again' })();
  });

  it('refuses to resume a missing checkpoint', () => {
    const ck = join(dir, 'checkpoint', 'checkpoint.json');
    assert.throws(
      () => openRunDir({ out: dir, resumeFrom: ck, resumingOut: true, command: 'test' }),
      /--resume: no checkpoint at .*checkpoint\.json/,
    );
  });

  it('fails before the first iteration when the checkpoint folder cannot take files (read-only mount)', function () {
    const ck = join(dir, 'checkpoint');
    mkdirSync(ck);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', ck], { stdio: 'ignore' });
    } catch {
      this.skip(); // not allowed to mount here
    }
    try {
      writeFileSync(join(ck, 'checkpoint.json'), '{}');
      execFileSync('mount', ['-o', 'remount,ro', ck]);
      assert.throws(
        () =>
          openRunDir({ out: dir, resumeFrom: join(ck, 'checkpoint.json'), resumingOut: true, command: 't' }),
        /cannot write to .*checkpoint: EROFS/,
      );
      assert.ok(!existsSync(join(dir, RUN_LOCK)), 'the lock is released on refusal');
    } finally {
      execFileSync('umount', [ck]);
    }
  });
});
