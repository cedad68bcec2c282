import { strict as assert } from 'node:assert';
import { checkPeer, peerAvailable } from '../../lib/bench/peerBench';
import { mnistTeacherUNet } from '../../lib/models/mnistTeacher';
import { unetDefaults } from '../../lib/models/unet';

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
