import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../lib/runtime/backend';
import { loadAddon } from '../../lib/runtime/native/addon';
import { assertClose, randn } from '../helpers';

// [input shape, output size, alignCorners, halfPixelCenters]
const CASES: [number[], [number, number], boolean, boolean][] = [
  [[3, 2, 3, 2], [4, 6], false, false], // the UNet's 2× upsampling, several images
  [[2, 3, 4, 5], [12, 8], false, false],
  [[2, 3, 4, 2], [5, 7], false, false],
  [[2, 3, 4, 2], [6, 8], true, false],
  [[2, 3, 4, 2], [7, 5], false, true],
];

/** Gradient of Σ resize(x)·dy with respect to x, and the two sides of the adjoint identity ⟨Ax, dy⟩ = ⟨x, Aᵀdy⟩. */
interface Result {
  dx: number[];
  lhs: number;
  rhs: number;
  blockSum: number[] | null;
}

function run([shape, size, align, half]: (typeof CASES)[number], seed: number): Result {
  let out: Result | undefined;
  tf.tidy(() => {
    const x = randn(shape, seed) as tf.Tensor4D;
    const dy = randn([shape[0], size[0], size[1], shape[3]], seed + 1);
    const up = (t: tf.Tensor) => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size, align, half);
    const dx = tf.grad((t: tf.Tensor) => up(t).mul(dy).sum())(x);
    out = {
      dx: Array.from(dx.dataSync()),
      lhs: up(x).mul(dy).sum().dataSync()[0],
      rhs: x.mul(dx).sum().dataSync()[0],
      // for integer factors, the gradient is the sum of each factor-sized block of dy
      blockSum:
        size[0] % shape[1] === 0 && size[1] % shape[2] === 0 && !align && !half
          ? Array.from(
              dy
                .reshape([shape[0], shape[1], size[0] / shape[1], shape[2], size[1] / shape[2], shape[3]])
                .sum([2, 4])
                .dataSync(),
            )
          : null,
    };
  });
  return out as Result;
}

describe('nearest-neighbour resize gradient', () => {
  const backends = ['cpu', 'wasm', ...(loadAddon().addon ? ['native'] : [])];
  after(async () => {
    await useBackend((loadAddon().addon ? 'native' : 'wasm') as never);
  });
  for (const backend of backends) {
    it(`is the adjoint of the resize on ${backend}, batches > 1 included`, async () => {
      await useBackend(backend as never);
      CASES.forEach((c, i) => {
        // tfjs-backend-wasm's kernel ignores halfPixelCenters (a tfjs bug on a path this project never takes)
        if (backend === 'wasm' && c[3]) return;
        const r = run(c, 10 * i);
        assert.ok(Math.abs(r.lhs - r.rhs) <= 1e-4 * (1 + Math.abs(r.lhs)), `case ${i}: ${r.lhs} vs ${r.rhs}`);
        if (r.blockSum) assertClose(r.dx, r.blockSum, 1e-5, 1e-5, `case ${i} block sums`);
      });
    });
  }
});
