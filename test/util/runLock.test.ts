import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRunLock, RUN_LOCK } from '../../lib/util/runLock';

describe('the run lock of an output directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the owner pid and command while held, and is gone after release', () => {
    const release = acquireRunLock(dir, 'sfd distill --out X');
    const owner = JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8'));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.command, 'sfd distill --out X');
    release();
    assert.ok(!existsSync(join(dir, RUN_LOCK)));
    release(); // idempotent
  });

  it('refuses a second holder while the first lives, naming it', () => {
    const release = acquireRunLock(dir, 'first run');
    try {
      assert.throws(
        () => acquireRunLock(dir, 'second run'),
        new RegExp(`in use by another run \\(pid ${process.pid}, 'first run', started `),
      );
    } finally {
      release();
    }
    acquireRunLock(dir, 'third run')(); // free again
  });

  it('reports and clears the stale lock of a process that no longer runs', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const pid = Number(dead.stdout);
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid, host: hostname(), command: 'killed run' }));
    const warnings: string[] = [];
    const release = acquireRunLock(dir, 'new run', (l) => warnings.push(l));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`clearing the stale lock .*pid ${pid}, 'killed run'`));
    assert.equal(JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8')).pid, process.pid);
    release();
  });

  it('treats a lock from another host as held (its pid cannot be checked from here)', () => {
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: 1, host: 'elsewhere', command: 'remote' }));
    assert.throws(() => acquireRunLock(dir, 'here'), /in use by another run \(pid 1, 'remote'\)/);
  });
});
