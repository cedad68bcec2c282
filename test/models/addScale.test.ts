import * as tf from '@tensorflow/tfjs';
import { addScale } from '../../lib/models/addScale';
import { NATIVE_BACKEND } from '../../lib/runtime/native/register';
import { assertClose, randn } from '../helpers';

describe('addScale (residual connection)', () => {
  it('the fused kernel (native) matches (a + b)·s on cpu: value and both gradients', async function () {
    if (!tf.getKernel('SfdAddScale', NATIVE_BACKEND)) this.skip(); // no addon: only the op path exists
    const run = async (backend: string) => {
      const prev = tf.getBackend();
      await tf.setBackend(backend);
      try {
        return tf.tidy(() => {
          const [a, b, w] = [randn([2, 3, 4, 5], 1), randn([2, 3, 4, 5], 2), randn([2, 3, 4, 5], 3)];
          const f = (x: tf.Tensor, y: tf.Tensor) => addScale(x, y, Math.SQRT1_2).mul(w).sum();
          const [ga, gb] = tf.grads(f)([a, b]);
          return [addScale(a, b, Math.SQRT1_2), ga, gb].map((t) => Array.from(t.dataSync()));
        });
      } finally {
        await tf.setBackend(prev);
      }
    };
    const [fused, ref] = [await run(NATIVE_BACKEND), await run('cpu')];
    ['value', 'd/da', 'd/db'].forEach((what, i) => {
      assertClose(fused[i], ref[i], 1e-6, 1e-7, what);
    });
  });

  it('falls back to ops for shapes that broadcast', () => {
    const y = addScale(tf.ones([2, 3]), tf.ones([3]), 0.5);
    assertClose(Array.from(y.dataSync()), [1, 1, 1, 1, 1, 1], 0, 0, 'broadcast');
  });
});
