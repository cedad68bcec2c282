import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { formatKernelProfile, profileSfdIteration, profileStep } from '../../lib/bench/kernelProfile';

describe('kernel profile (sfd bench --profile)', () => {
  it('counts each registered kernel once, never the scopes around them, within the profiled wall time', async () => {
    // a small UNet: the same kernels as the MNIST teacher's iteration, in a fraction of the time
    const p = await profileSfdIteration({ resolution: 8, channels: [8, 8, 8], groups: 4 }, 2, 1);
    const names = p.rows.map((r) => r.kernel);
    for (const k of ['FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'])
      assert.ok(names.includes(k), `${k} in ${names.join(', ')}`);
    for (const n of names) {
      assert.ok(tf.getKernel(n, tf.getBackend()), `${n} is a registered kernel`);
      assert.ok(!n.endsWith('__op') && n !== 'unnamed scope', n);
    }
    assert.ok(
      p.kernelMs > 0 && p.kernelMs <= p.profiledWallMs,
      `${p.kernelMs} ms in kernels of ${p.profiledWallMs}`,
    );
    assert.equal(
      p.kernelCalls,
      p.rows.reduce((s, r) => s + r.calls, 0),
    );
    const table = formatKernelProfile(p, 3);
    assert.match(table, /outside kernels/);
    assert.match(table, /more kernels/);
  });

  it('counts a kernel inside a custom-gradient op once', async () => {
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const b = tf.zeros([4]);
    const p = await profileStep(async () => {
      // with a bias, fused.conv2d is a custom-gradient op around the FusedConv2D kernel
      const y = tf.fused.conv2d({ x, filter: w, bias: b, pad: 'same', strides: 1 });
      await y.data();
      y.dispose();
    }, 1);
    assert.deepEqual(
      p.rows.map((r) => [r.kernel, r.calls]),
      [['FusedConv2D', 1]],
    );
    tf.dispose([x, w, b]);
  });
});
