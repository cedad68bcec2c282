import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { releasePooledMemory } from '../../lib/runtime/backend';
import { loadAddon } from '../../lib/runtime/native/addon';
import type { PooledCpuBackend } from '../../lib/runtime/native/pooledBackend';
import { NATIVE_BACKEND, registerNativeBackend } from '../../lib/runtime/native/register';
import { randn } from '../helpers';

// 2^18 floats: well above the smallest size the pool recycles (poolSettings.minElements)
const SHAPE = [4, 1 << 16];

describe('native backend buffer pool', () => {
  let prev: string;
  let be: PooledCpuBackend;
  before(async function () {
    if (!loadAddon().addon) this.skip(); // nativeKernels.test.ts reports (or fails on) the missing addon
    registerNativeBackend();
    prev = tf.getBackend();
    await tf.setBackend(NATIVE_BACKEND);
    be = tf.backend() as PooledCpuBackend;
  });
  after(async () => {
    if (prev) await tf.setBackend(prev);
  });

  const expected = (t: tf.Tensor) => Float32Array.from(t.dataSync());

  it("reuses a disposed output's memory for the next output of that size, with the right result", () => {
    const [a, b] = [randn(SHAPE, 1), randn(SHAPE, 2)];
    const x = a.add(b); // native Add: pooled
    x.dispose();
    const before = be.poolStats.reused;
    const y = a.mul(b);
    assert.equal(be.poolStats.reused, before + 1, 'the disposed buffer was handed out again');
    const ref = tf.tidy(() => expected(a.mul(b).add(0)));
    assert.deepEqual(expected(y), ref);
    tf.dispose([a, b, y]);
  });

  it('never recycles memory whose values were read out (dataSync)', () => {
    const [a, b] = [randn(SHAPE, 3), randn(SHAPE, 4)];
    const x = a.add(b);
    const read = x.dataSync();
    const copy = Float32Array.from(read);
    x.dispose();
    const y = a.sub(b); // same size: would land in x's memory if it were recycled
    assert.deepEqual(read, copy, 'the array dataSync returned was overwritten');
    tf.dispose([a, b, y]);
  });

  it('never recycles memory that a view (a contiguous slice) still shows', () => {
    const [a, b] = [randn(SHAPE, 5), randn(SHAPE, 6)];
    const x = a.add(b);
    const s = tf.slice(x, [1, 0], [2, SHAPE[1]]); // the cpu kernel returns a subarray of x's memory
    const want = tf.tidy(() => expected(tf.slice(a.add(b), [1, 0], [2, SHAPE[1]]).add(0)));
    x.dispose();
    const y = a.mul(b);
    assert.deepEqual(expected(s), want, 'the slice changed when its source was disposed');
    tf.dispose([a, b, s, y]);
  });

  it('never recycles memory that a complex tensor keeps (the cpu Complex kernel stores its inputs there)', () => {
    const [a, b] = [randn(SHAPE, 11), randn(SHAPE, 12)];
    const x = a.add(b);
    const want = Float32Array.from(x.dataSync());
    const x2 = a.add(b); // not read out: only the complex tensor below still shares its memory
    const r = tf.real(tf.complex(x2, tf.zerosLike(x2)));
    x2.dispose();
    const y = a.mul(b);
    assert.deepEqual(expected(r), want, 'the real part changed when its source was disposed');
    tf.dispose([a, b, x, r, y]);
  });

  it('keeps memory shared by a reshape until the last tensor that uses it is disposed', () => {
    const [a, b] = [randn(SHAPE, 7), randn(SHAPE, 8)];
    const x = a.add(b);
    const r = x.reshape([SHAPE[1], SHAPE[0]]);
    const want = tf.tidy(() => expected(a.add(b)));
    x.dispose();
    const y = a.mul(b);
    assert.deepEqual(expected(r), want, 'the reshape changed when the tensor it came from was disposed');
    tf.dispose([a, b, r, y]);
  });

  it('lets go of the waiting buffers on request, and allocates fresh memory afterwards', () => {
    const [a, b] = [randn(SHAPE, 9), randn(SHAPE, 10)];
    a.add(b).dispose();
    assert.ok(releasePooledMemory() >= 4 * SHAPE[0] * SHAPE[1], 'the disposed output was waiting');
    assert.equal(releasePooledMemory(), 0);
    const fresh = be.poolStats.fresh;
    const y = a.add(b);
    assert.equal(be.poolStats.fresh, fresh + 1);
    tf.dispose([a, b, y]);
  });
});
