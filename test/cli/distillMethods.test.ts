import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `sfd distill --method M`: every trainable method through one command, and its model samples as trained. */
describe('sfd distill --method', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'sfd-methods-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sfd = (args: string[]) => spawnSync(process.execPath, ['bin/sfd.js', ...args], { encoding: 'utf8' });

  it('refuses an unknown method, listing the known ones', () => {
    const r = sfd(['distill', '--method', 'xx', '--out', join(dir, 'x')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--method must be one of sfd, pd, cd, amed, got 'xx'/);
  });

  it('pd: a Progressive-Distillation student samples as it was trained (Euler on its grid), and only so', () => {
    const out = join(dir, 'pd');
    let r = sfd([
      'distill',
      '--method',
      'pd',
      '--out',
      out,
      '--start-steps',
      '4',
      '--final-steps',
      '2',
      '--iterations-per-round',
      '2',
      '--batch',
      '2',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(card.method, 'progressive-distillation');
    assert.deepEqual(card.pd.sampling.nfes, [2]);
    r = sfd(['sample', '--teacher', out, '--n', '4', '--out', join(dir, 'pd.png')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /euler nfe=2/);
    r = sfd(['sample', '--teacher', out, '--solver', 'heun', '--n', '4', '--out', join(dir, 'pd.png')]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /is a Progressive-Distillation student: it samples as it was trained .* drop --solver/,
    );
  });
});
