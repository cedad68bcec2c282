import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';

const sfd = (args: string[]) => spawnSync(process.execPath, ['bin/sfd.js', ...args], { encoding: 'utf8' });

describe('sfd train-teacher, sample --teacher mnist, eval', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'sfd-img-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('train-teacher trains, checkpoints, refuses to overwrite and resumes', () => {
    const out = join(dir, 'teacher');
    const common = [
      'train-teacher',
      '--channels',
      '8,8',
      '--batch',
      '4',
      '--checkpoint-every',
      '1',
      '--positional',
      '--p-mean=-0.5',
      '--p-std',
      '1.5',
      '--out',
      out,
    ];
    let r = sfd([...common, '--steps', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /trained 1 steps/);
    r = sfd([...common, '--steps', '2']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already holds a model or run/);
    r = sfd([...common, '--steps', '2', '--resume']);
    assert.equal(r.status, 0, r.stderr);
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(card.steps, 2);
    assert.equal(card.weights, 'EMA');
    assert.deepEqual(card.config.channels, [8, 8]);
    assert.deepEqual(card.training.noise, { pMean: -0.5, pStd: 1.5 });
    assert.equal(card.config.positional, true);
    assert.ok(card.finalLoss > 0);
    // a checkpoint's EMA weights exported as a model equal those the finished run saved (same step)
    r = sfd(['train-teacher', '--export', out, '--out', join(dir, 'exported')]);
    assert.equal(r.status, 0, r.stderr);
    const exported = JSON.parse(readFileSync(join(dir, 'exported', 'model.json'), 'utf8'));
    assert.equal(exported.steps, 2);
    assert.deepEqual(
      readFileSync(join(dir, 'exported', 'weights.bin')),
      readFileSync(join(out, 'weights.bin')),
    );
    r = sfd(['train-teacher', '--export', join(dir, 'missing.json'), '--out', join(dir, 'e2')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no checkpoint at/);
    r = sfd(['train-teacher', '--steps', 'x']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--steps must be/);
    r = sfd([
      'train-teacher',
      '--steps',
      '1',
      '--channels',
      '8,8',
      '--batch',
      '4',
      '--no-positional',
      '--out',
      join(dir, 'plain'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const plain = JSON.parse(readFileSync(join(dir, 'plain', 'model.json'), 'utf8'));
    assert.equal(plain.config.positional, false);
    assert.deepEqual(plain.training.noise, { pMean: -1.2, pStd: 1.2 }); // the MNIST teacher's defaults (EDM's)
    r = sfd(['train-teacher', '--p-std', '0', '--out', join(dir, 'never')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--p-std must be > 0/);
    // exporting over an existing model, or into the shipped teacher, is refused before anything is written
    r = sfd(['train-teacher', '--export', out, '--out', join(dir, 'exported')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already holds a model or run/);
    r = sfd(['train-teacher', '--export', out, '--out', 'data/teacher-mnist']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is shipped with the project and is never written to/);
    r = sfd(['train-teacher', '--steps', '1', '--out', 'data/teacher-mnist']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is shipped with the project and is never written to/);
    r = sfd(['train-teacher', '--steps', '1', '--resume', '--out', 'data/teacher-mnist']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--resume --from data\/teacher-mnist --out DIR/);
    r = sfd(['train-features', '--epochs', '1', '--out', 'data/feature-net']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is shipped with the project/);
  });

  it('sample --teacher mnist writes a PNG grid with every solver', () => {
    for (const [solver, nfe] of [
      ['euler', 2],
      ['heun', 2],
      ['dpm2', 2],
      ['ipndm', 2],
      ['dpmpp-2m', 2],
      ['dpmpp-3m', 3],
    ] as const) {
      const png = join(dir, `${solver}.png`);
      const r = sfd([
        'sample',
        '--teacher',
        'mnist',
        '--solver',
        solver,
        '--nfe',
        String(nfe),
        '--n',
        '4',
        '--out',
        png,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const img = PNG.sync.read(readFileSync(png));
      assert.equal(img.width, 2 * 57 + 1, solver);
    }
    const exact = sfd(['sample', '--teacher', 'mnist', '--exact', '--out', join(dir, 'x.png')]);
    assert.equal(exact.status, 1);
    assert.match(exact.stderr, /--exact needs a toy teacher/);
    const bad = sfd(['sample', '--teacher', 'mnist', '--out', join(dir, 'x.json')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--out FILE\.png/);
    // an output that cannot be written fails before any sampling (it would take the full 36 NFE otherwise)
    for (const args of [
      ['--out', '/missing/dir/x.png'],
      ['--out', join(dir, 'ok.png'), '--save-samples', '/missing/dir/s.json'],
    ]) {
      const r = sfd(['sample', '--teacher', 'mnist', '--n', '2000', ...args]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /folder \/missing\/dir does not exist/);
      assert.doesNotMatch(r.stderr, /sample \[/, 'no sampling progress before the check');
    }
    const toy = sfd(['sample', '--teacher', 'gmm2d', '--out', '/missing/dir/x.json']);
    assert.equal(toy.status, 1);
    assert.match(toy.stderr, /folder \/missing\/dir does not exist/);
  });

  it('eval prints FID and PRDC as JSON for real images and for saved samples', () => {
    let r = sfd(['eval', '--real', 'train', '--n', '300']);
    assert.equal(r.status, 0, r.stderr);
    const real = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    for (const k of ['fid', 'precision', 'recall', 'density', 'coverage', 'meanConfidence'])
      assert.ok(Number.isFinite(real[k]), k);
    const samples = join(dir, 'samples.json');
    r = sfd([
      'sample',
      '--teacher',
      'mnist',
      '--solver',
      'euler',
      '--nfe',
      '1',
      '--n',
      '300',
      '--out',
      join(dir, 's.png'),
      '--save-samples',
      samples,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'samples.bin')));
    r = sfd(['eval', '--samples', samples]);
    assert.equal(r.status, 0, r.stderr);
    const oneStep = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    // One Euler step from pure noise is a blur, far worse than real digits.
    assert.ok(oneStep.fid > 3 * real.fid + 1, `FID of 1-NFE samples ${oneStep.fid} vs real ${real.fid}`);
    r = sfd(['eval', '--real', 'train', '--samples', samples]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /exactly one of/);
  });

  it('eval --denoising reports the MSE per σ beside the linear baseline, and records it in a card', () => {
    const copy = join(dir, 'teacher-copy');
    cpSync(join('data', 'teacher-mnist'), copy, { recursive: true });
    const r = sfd(['eval', '--teacher', copy, '--denoising', '--n', '20', '--record']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    assert.equal(out.denoising.length, 11);
    const low = out.denoising[0];
    assert.equal(low.sigma, 0.05);
    // at low noise any trained denoiser beats a linear filter (which blurs the strokes)
    assert.ok(low.mse < low.linearMse, `σ=0.05: teacher ${low.mse}, linear ${low.linearMse}`);
    for (const row of out.denoising) assert.ok(row.mse > 0 && row.linearMse > 0);
    const card = JSON.parse(readFileSync(join(copy, 'model.json'), 'utf8'));
    assert.deepEqual(card.evaluation.at(-1).denoising, out.denoising);
    // measuring the same setting again replaces the entry instead of adding a duplicate
    assert.equal(sfd(['eval', '--teacher', copy, '--denoising', '--n', '20', '--record']).status, 0);
    const again = JSON.parse(readFileSync(join(copy, 'model.json'), 'utf8'));
    assert.equal(again.evaluation.length, card.evaluation.length);
    assert.equal(again.evaluation.filter((e: { n: number }) => e.n === 20).length, 1);
    const bad = sfd(['eval', '--denoising', '--real', 'train']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--denoising needs --teacher/);
  });
});
