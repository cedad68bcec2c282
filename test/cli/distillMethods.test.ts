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

  it('cd: a consistency model samples and is evaluated through sfd sample/eval at NFE 1 and 2, and only so', () => {
    const out = join(dir, 'cd');
    let r = sfd(['distill', '--method', 'cd', '--out', out, '--iterations', '2', '--batch', '2']);
    assert.equal(r.status, 0, r.stderr);
    r = sfd(['sample', '--teacher', out, '--nfe', '2', '--n', '4', '--out', join(dir, 'cd.png')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /cd nfe=2: 4 samples/);
    r = sfd(['eval', '--teacher', out, '--n', '6', '--record']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.equal(m.method, 'cd');
    assert.equal(m.nfe, 1, 'NFE 1 by default');
    assert.deepEqual(m.taus, [80]);
    assert.ok(Number.isFinite(m.fid));
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(card.evaluation.at(-1).fid, m.fid, "recorded in the model's card");
    r = sfd(['sample', '--teacher', out, '--nfe', '3', '--n', '4', '--out', join(dir, 'cd.png')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /samples at NFE 1 or 2/);
    r = sfd(['eval', '--teacher', out, '--afs', '--n', '6']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /is a consistency model: it samples with its own 1- or 2-step sampler; drop --afs/,
    );
  });

  it('amed: an AMED-Plugin predictor samples with its teacher through sfd sample/eval at its NFE, and only so', () => {
    const out = join(dir, 'amed');
    let r = sfd(['distill', '--method', 'amed', '--out', out, '--iterations', '2', '--batch', '2']);
    assert.equal(r.status, 0, r.stderr);
    r = sfd(['sample', '--teacher', out, '--n', '4', '--out', join(dir, 'amed.png')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ipndm nfe=5: 4 samples/);
    r = sfd(['eval', '--teacher', out, '--n', '6', '--record']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.equal(m.method, 'amed');
    assert.equal(m.nfe, 5);
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(m.baseTeacherSha256, card.teacher.sha256);
    assert.equal(card.evaluation.at(-1).fid, m.fid, "recorded in the predictor's card");
    r = sfd(['sample', '--teacher', out, '--nfe', '7', '--n', '4', '--out', join(dir, 'amed.png')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /samples at NFE 5 only/);
    r = sfd(['sample', '--teacher', out, '--solver', 'heun', '--n', '4', '--out', join(dir, 'amed.png')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is an AMED-Plugin predictor: it drives iPNDM .* drop --solver/);
  });
});
