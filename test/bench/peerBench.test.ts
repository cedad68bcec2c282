import { strict as assert } from 'node:assert';
import {
  checkPeer,
  PEER_ENV_ALLOWED,
  PEER_OWN_SETTINGS,
  peerAvailable,
  peerEnvironment,
} from '../../lib/bench/peerBench';
import { mnistTeacherUNet } from '../../lib/models/mnistTeacher';
import { unetDefaults } from '../../lib/models/unet';
import { loadAddon } from '../../lib/runtime/native/addon';

describe('PyTorch peer of the benchmark (bench/peers/unet_torch.py)', function () {
  this.timeout(120_000);
  it('computes the project’s UNet: same parameter count, same outputs from the project’s weights', async function () {
    const avail = peerAvailable();
    if (avail.ok === false) {
      console.log(`      skipped: ${avail.reason}`);
      this.skip();
    }
    for (const u of [unetDefaults, mnistTeacherUNet]) {
      const c = await checkPeer(u);
      assert.deepEqual(c.unusedWeights, []);
      assert.ok(
        c.maxAbsDiff <= 1e-5 * Math.max(1, c.maxAbs),
        `max |Δ| ${c.maxAbsDiff} on outputs up to ${c.maxAbs}`,
      );
    }
  });
});

describe('the PyTorch peer runs in an environment of its own', () => {
  it('inherits no OpenMP/BLAS variable this process set, only the allow-list and its own settings', () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/root',
      OPENBLAS_CORETYPE: 'Haswell', // the machine's CPU workaround: every program gets it
      OMP_WAIT_POLICY: 'PASSIVE', // e.g. a user's own setting for this process
      OMP_PROC_BIND: 'true',
      GOMP_SPINCOUNT: '0',
      KMP_BLOCKTIME: '0',
      MKL_NUM_THREADS: '1',
      OPENBLAS_NUM_THREADS: '1',
      OMP_NUM_THREADS: '1',
      SFD_BACKEND: 'native',
      LD_LIBRARY_PATH: '/opt/x',
    };
    const peer = peerEnvironment(2, { ...env, OPENBLAS_NUM_THREADS: '2' });
    assert.deepEqual(Object.keys(peer).sort(), [
      'HOME',
      'MALLOC_MMAP_MAX_',
      'OMP_NUM_THREADS',
      'OPENBLAS_CORETYPE',
      'OPENBLAS_NUM_THREADS',
      'PATH',
    ]);
    assert.equal(peer.OMP_NUM_THREADS, '2', "the peer's own thread count, not the inherited one");
    assert.equal(peer.OPENBLAS_NUM_THREADS, '1', "the peer's own one-pool setting, not the inherited one");
    for (const k of Object.keys(peer))
      if (!['OMP_NUM_THREADS', ...Object.keys(PEER_OWN_SETTINGS)].includes(k))
        assert.ok(!/^(OMP_|GOMP_|KMP_|MKL_|OPENBLAS_NUM)/.test(k), `${k} leaked to the peer`);
  });

  it('whatever OpenMP/BLAS settings this process holds once the addon is loaded, the peer gets none', () => {
    loadAddon();
    const peer = peerEnvironment(2, { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', GOMP_SPINCOUNT: '0' });
    assert.equal(peer.OMP_WAIT_POLICY, undefined);
    for (const k of Object.keys(peer))
      assert.ok(
        PEER_ENV_ALLOWED.includes(k as never) ||
          ['OMP_NUM_THREADS', ...Object.keys(PEER_OWN_SETTINGS)].includes(k),
        k,
      );
  });
});
