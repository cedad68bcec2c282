// A/B of the stride-1 conv paths (per-tap GEMMs vs im2col) on the MNIST teacher's shapes, same process.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './lib/runtime';
(async () => {
  await initBackend();
  const shapes: [number, number, number, number][] = [[64, 28, 16, 16], [64, 28, 48, 16], [64, 28, 32, 16], [64, 14, 32, 32], [64, 14, 96, 32], [64, 7, 64, 64], [64, 7, 128, 64]];
  for (const [b, hw, ci, co] of shapes) {
    const x = tf.randomNormal([b, hw, hw, ci]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
    const dy = tf.randomNormal([b, hw, hw, co]) as tf.Tensor4D;
    const ops = {
      fwd: () => tf.conv2d(x, w, 1, 'same'),
      dx: () => tf.conv2dTranspose(dy, w, x.shape, 1, 'same'),
      dw: () => tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, 'same').mul(dy).sum())(w),
    };
    const res: string[] = [];
    for (const [name, f] of Object.entries(ops)) {
      const best: Record<string, number> = {};
      for (let rep = 0; rep < 5; rep++)
        for (const mode of ['0', '100000']) {
          process.env.SFD_NATIVE_TAP_MIN_C = mode;
          const t0 = performance.now();
          tf.tidy(() => f().dataSync());
          const t = performance.now() - t0;
          best[mode] = Math.min(best[mode] ?? 1e9, t);
        }
      res.push(`${name} tap ${best['0'].toFixed(1)} im2col ${best['100000'].toFixed(1)}`);
    }
    console.log(`[${b},${hw},${hw},${ci}]→${co}: ${res.join(' | ')}`);
    tf.dispose([x, w, dy]);
  }
})();
