import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a user meets first: help, bad values, bad paths, impossible requests, two runs on one folder. */
describe('sfd command reliability', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'sfd-reliability-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sfd = (args: string[], timeout = 60_000) =>
    spawnSync(process.execPath, ['bin/sfd.js', ...args], {
      encoding: 'utf8',
      timeout,
      env: { ...process.env, SFD_CACHE_DIR: join(dir, 'cache') },
    });
  /** The one error line of a refused command (the backend line may precede it). */
  const refusal = (r: ReturnType<typeof sfd>) => {
    assert.equal(r.status, 1, `expected a refusal, got status ${r.status}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('tfjs backend:'));
    assert.equal(lines.length, 1, `one error line, got:\n${r.stderr}`);
    return lines[0];
  };
  const COMMANDS = [
    'distill',
    'sample',
    'eval',
    'train-teacher',
    'train-features',
    'gallery',
    'bench',
    'info',
    'gpu-check',
  ];

  it('every command prints its own usage for --help, -h and sfd help CMD, and exits 0', () => {
    for (const cmd of COMMANDS) {
      const outs = [['--help'], ['-h']].map((f) => sfd([cmd, ...f])).concat([sfd(['help', cmd])]);
      for (const r of outs) {
        assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^ {2}sfd ${cmd} `), cmd);
        const others = COMMANDS.filter((c) => c !== cmd && r.stdout.includes(`sfd ${c} `));
        assert.deepEqual(others, [], `${cmd}'s help shows only its own section`);
      }
    }
  });

  it('a negative number is a value: the same one-line range error as zero', () => {
    assert.equal(
      refusal(sfd(['sample', '--nfe', '-1', '--out', join(dir, 'x.json')])),
      "sfd sample: --nfe must be a positive integer, got '-1'",
    );
    assert.equal(
      refusal(sfd(['sample', '--nfe', '0', '--out', join(dir, 'x.json')])),
      "sfd sample: --nfe must be a positive integer, got '0'",
    );
    assert.equal(
      refusal(sfd(['sample', '--n', '-5', '--out', join(dir, 'x.json')])),
      "sfd sample: --n must be a positive integer, got '-5'",
    );
    assert.equal(
      refusal(sfd(['distill', '--lr', '-1', '--out', join(dir, 'lr')])),
      "sfd distill: --lr must be > 0, got '-1'",
    );
  });

  it('an unknown teacher is answered with every accepted value', () => {
    assert.match(
      refusal(sfd(['sample', '--teacher', 'foo', '--out', join(dir, 'x.json')])),
      /gmm2d, ring, grid \(toy\), mnist, or a model directory/,
    );
    assert.match(
      refusal(sfd(['distill', '--teacher', 'foo', '--out', join(dir, 'foo')])),
      /image teachers are mnist or a model directory \(DIR\/model\.json\)/,
    );
  });

  it('outputs that cannot hold files fail at once, before any work', () => {
    const t0 = Date.now();
    assert.match(
      refusal(sfd(['distill', '--out', '/proc/x', '--iterations', '1'], 30_000)),
      /cannot write to \/proc\/x: \/proc cannot hold a new folder/,
    );
    assert.match(
      refusal(sfd(['sample', '--teacher', 'mnist', '--out', '/proc/x.png'])),
      /--out \/proc\/x\.png: folder \/proc cannot hold a new file/,
    );
    assert.match(
      refusal(sfd(['sample', '--out', '/sys/x.json'])),
      /--out \/sys\/x\.json: folder \/sys cannot hold a new file/,
    );
    assert.ok(Date.now() - t0 < 60_000);
  });

  it('nothing is added to the shipped data/ folder', () => {
    assert.match(
      refusal(sfd(['sample', '--teacher', 'mnist', '--out', 'data/x.png'])),
      /shipped data\/ folder/,
    );
    assert.match(
      refusal(
        sfd([
          'sample',
          '--teacher',
          'mnist',
          '--out',
          join(dir, 'g.png'),
          '--save-samples',
          'data/students/s.json',
        ]),
      ),
      /--save-samples data\/students\/s\.json is in the project's shipped data\/ folder/,
    );
    assert.ok(!existsSync('data/x.png') && !existsSync('data/students/s.json'));
  });

  it('an evaluation with fewer samples than the metrics need is refused before sampling', () => {
    assert.match(
      refusal(sfd(['eval', '--teacher', 'mnist', '--n', '1'])),
      /eval needs at least 6 samples \(FID needs 2, PRDC more than k = 5\), got 1/,
    );
    const samples = join(dir, 'three.json');
    let r = sfd([
      'sample',
      '--teacher',
      'mnist',
      '--nfe',
      '2',
      '--solver',
      'euler',
      '--n',
      '3',
      '--out',
      join(dir, 'three.png'),
      '--save-samples',
      samples,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(refusal(sfd(['eval', '--samples', samples])), /got 3/);
    // a PNG given as a samples file is named as one
    assert.match(
      refusal(sfd(['eval', '--samples', join(dir, 'three.png')])),
      /three\.png is a PNG image, not a samples file/,
    );
    writeFileSync(join(dir, 'broken.json'), '{"format": ');
    r = sfd(['eval', '--samples', join(dir, 'broken.json')]);
    assert.match(refusal(r), /broken\.json is not valid JSON \(expected a samples file/);
  });

  it('requests beyond this machine are refused up front with the estimate and the limit', () => {
    assert.match(
      refusal(sfd(['sample', '--nfe', '20000', '--out', join(dir, 'x.json')])),
      /about 839 MiB of JSON, more than one JSON file can hold here \(512 MiB\)/,
    );
    assert.match(
      refusal(sfd(['sample', '--n', '10000000', '--out', join(dir, 'x.json')])),
      /lower --n or --nfe/,
    );
    assert.match(
      refusal(sfd(['sample', '--teacher', 'mnist', '--n', '10000000', '--out', join(dir, 'x.png')])),
      /sample --n 10000000 needs about .* GiB of memory, more than the .* allowed \(half of this machine's/,
    );
    assert.match(
      refusal(sfd(['distill', '--batch', '100000', '--out', join(dir, 'big')])),
      /distilling at --batch 100000 needs about .* GiB of memory/,
    );
    assert.ok(!existsSync(join(dir, 'big')), 'nothing created');
  });

  it('a user folder that holds other files is not written into, and its files are untouched', () => {
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'weights.bin'), 'my own weights');
    assert.match(
      refusal(sfd(['distill', '--out', mine, '--iterations', '1'])),
      /is not empty \(weights\.bin\) and holds no run of this command/,
    );
    assert.equal(readFileSync(join(mine, 'weights.bin'), 'utf8'), 'my own weights');
  });

  it('a second run on the same --out fails at once, naming the first', async () => {
    const out = join(dir, 'locked');
    const first = spawn(
      process.execPath,
      [
        'bin/sfd.js',
        'distill',
        '--out',
        out,
        '--batch',
        '2',
        '--k',
        '2',
        '--iterations',
        '100000',
        '--no-cache',
      ],
      { stdio: 'ignore' },
    );
    try {
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(out, '.sfd-run.lock')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(
        refusal(sfd(['distill', '--out', out, '--iterations', '2'])),
        new RegExp(`in use by another run \\(pid ${first.pid}, 'sfd distill --out `),
      );
    } finally {
      first.kill('SIGKILL');
    }
  });

  it('a resume names the setting that changed, and never goes below the iterations done', () => {
    const out = join(dir, 'resumable');
    const small = ['--batch', '2', '--k', '2', '--checkpoint-every', '2', '--lr-drop', '1'];
    let r = sfd(['distill', '--out', out, ...small, '--iterations', '4']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      refusal(sfd(['distill', '--out', out, ...small, '--iterations', '6', '--resume', '--lr', '1e-3'])),
      /was made with lr\.lr = 0\.0005, this run has 0\.001 \(only --iterations may change\)/,
    );
    assert.match(
      refusal(sfd(['distill', '--out', out, ...small, '--iterations', '2', '--resume'])),
      /has done 4 iterations already; --iterations 2 is below that/,
    );
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(card.sfd.config.iterations, 4, 'the card is not rewritten');
    r = sfd(['distill', '--out', out, ...small, '--iterations', '6', '--resume']);
    assert.equal(r.status, 0, r.stderr);
  });
});
