import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireWebgpu } from './twoBackends';

// The GPU bundle, built and run end to end as on the GPU machine, here on lavapipe with the tiny profile.
describe('npm run gpu-bundle: the self-contained GPU check', function () {
  this.timeout(900_000);
  let dir: string;
  before(async function () {
    await requireWebgpu(this);
    dir = mkdtempSync(join(tmpdir(), 'sfd-gpu-bundle-test-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('builds a folder well under 60 MiB whose run.sh --tiny passes every check and distils a student', () => {
    const bundle = join(dir, 'bundle');
    const b = spawnSync(process.execPath, ['scripts/gpu-bundle.js', '--fast', '--out', bundle], {
      encoding: 'utf8',
    });
    assert.equal(b.status, 0, b.stderr);
    const mib = statSync(join(bundle, 'sfd-gpu.tar.xz')).size / 2 ** 20;
    assert.ok(mib < 60, `${mib.toFixed(1)} MiB at xz -1 (the default -9e is smaller still)`);
    const out = join(dir, 'out');
    // a bare environment: only what the script itself sets up (and the machine's Vulkan driver)
    const r = spawnSync(join(bundle, 'run.sh'), [out, '--tiny'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: dir, SFD_GPU_WORK: join(dir, 'work') },
    });
    assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    const rows = readFileSync(join(out, 'gpu-check.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const kinds = (k: string) => rows.filter((x) => x.kind === k);
    assert.equal(kinds('adapter').length, 1);
    assert.ok(kinds('numerics').length >= 19);
    for (const n of kinds('numerics')) assert.ok(n.ok, `${n.check}: ${n.maxRelDiff}`);
    assert.deepEqual(
      kinds('bench').map((x) => x.workload),
      ['train step', 'train step, batch 4', 'inference', 'SFD iteration'],
    );
    for (const x of kinds('bench')) assert.ok(x.msPerStep > 0 && Number.isFinite(x.msPerStep));
    const [d] = kinds('distill');
    assert.equal(d.iterations, 2);
    assert.ok(Number.isFinite(d.fid) && d.fid > 0);
    assert.deepEqual(
      kinds('done').map((x) => x.ok),
      [true],
    );
    // the PyTorch peer's spec names the same workloads (it runs where python3 has torch with CUDA)
    const spec = JSON.parse(readFileSync(join(out, 'peer-spec.json'), 'utf8'));
    assert.deepEqual(
      spec.workloads.map((w: { name: string }) => w.name),
      kinds('bench').map((x) => x.workload),
    );
    assert.ok(existsSync(join(out, 'peer.jsonl')));
  });
});
