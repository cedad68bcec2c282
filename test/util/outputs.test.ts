import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intArg, intListArg, numArg, positiveArg, seedArg } from '../../lib/cli/args';
import { repoRoot } from '../../lib/runtime/paths';
import { ensureModelOutDir, ensureWritableFile, isShipped } from '../../lib/util/outputs';

describe('output locations and argument parsers', () => {
  it('ensureModelOutDir refuses a directory holding a model or run unless resuming, and the shipped data/ always', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfd-out-'));
    try {
      ensureModelOutDir(join(dir, 'fresh', 'deep')); // created
      writeFileSync(join(dir, 'fresh', 'deep', 'model.json'), '{}');
      assert.throws(() => ensureModelOutDir(join(dir, 'fresh', 'deep')), /already holds a model or run/);
      ensureModelOutDir(join(dir, 'fresh', 'deep'), { resuming: true });
      mkdirSync(join(dir, 'run', 'checkpoint'), { recursive: true });
      writeFileSync(join(dir, 'run', 'checkpoint', 'checkpoint.json'), '{}');
      assert.throws(() => ensureModelOutDir(join(dir, 'run')), /already holds a model or run/);
      const shipped = join(repoRoot(), 'data', 'teacher-mnist');
      assert.ok(isShipped(shipped) && isShipped(join(shipped, 'model.json')) && !isShipped(dir));
      assert.throws(() => ensureModelOutDir(shipped, { resuming: true }), /shipped with the project/);
      writeFileSync(join(dir, 'file'), '');
      assert.throws(() => ensureModelOutDir(join(dir, 'file')), /cannot write to/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ensureWritableFile names a missing folder, a directory, or a shipped file', () => {
    assert.throws(() => ensureWritableFile('/missing/dir/x.png'), /folder \/missing\/dir does not exist/);
    assert.throws(() => ensureWritableFile(tmpdir()), /is a directory/);
    assert.throws(
      () => ensureWritableFile(join(repoRoot(), 'data', 'mnist-feature-stats.json'), '--grid'),
      /--grid .* is in the project's shipped data\/ folder, which is never written to/,
    );
    ensureWritableFile(join(tmpdir(), 'sfd-anything.png'));
  });

  it('argument parsers return defaults, parse values and name the flag on bad input', () => {
    assert.equal(intArg(undefined, 'n', 7), 7);
    assert.equal(intArg('12', 'n', 7, 1), 12);
    assert.throws(() => intArg('0', 'n', 7, 1), /^RangeError: --n must be a positive integer, got '0'$/);
    assert.throws(() => intArg('1.5', 'steps', 7), /--steps must be a non-negative integer, got '1.5'/);
    assert.throws(() => intArg('', 'k', 7, 2), /--k must be an integer ≥ 2, got ''/);
    assert.equal(numArg('-0.5', 'p-mean', 0), -0.5);
    assert.throws(() => numArg('abc', 'rho', 7), /--rho must be a number/);
    assert.throws(() => positiveArg('0', 'lr', 1), /--lr must be > 0/);
    assert.throws(() => seedArg(String(2 ** 32), 0), /\[0, 2\^32\)/);
    assert.deepEqual(intListArg('2,3,4', 'variable', [], 1), [2, 3, 4]);
    assert.throws(() => intListArg('2,,4', 'variable', [], 1), /comma-separated list/);
    assert.throws(
      () => intListArg('2,0', 'variable', [], 1),
      /--variable must be a positive integer, got '0'/,
    );
  });
});
