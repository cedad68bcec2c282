import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { edmPrecond, edmScalings } from '../../lib/diffusion/precond';
import { assertClose } from '../helpers';

describe('EDM preconditioning', () => {
  it('edmScalings matches the closed form at t = 0.5 and t = 80 (σ_data = 0.5)', () => {
    const a = edmScalings(0.5);
    assertClose(
      [a.cSkip, a.cOut, a.cIn, a.cNoise],
      [0.5, 0.25 / Math.sqrt(0.5), 1 / Math.sqrt(0.5), Math.log(0.5) / 4],
      1e-12,
    );
    const b = edmScalings(80);
    assertClose(
      [b.cSkip, b.cOut, b.cIn],
      [0.25 / 6400.25, 40 / Math.sqrt(6400.25), 1 / Math.sqrt(6400.25)],
      1e-12,
    );
  });

  it('the scalings give the network a unit-variance training target at every t', () => {
    // EDM's design: Var[(x0 − c_skip·x_t)/c_out] = 1 for x0 ~ σ_data, x_t = x0 + t·ε.
    for (const t of [0.01, 0.3, 2, 80]) {
      const { cSkip, cOut } = edmScalings(t);
      const v = ((1 - cSkip) ** 2 * 0.25 + cSkip ** 2 * t * t) / cOut ** 2;
      assert.ok(Math.abs(v - 1) < 1e-12, `t=${t}: target variance ${v}`);
    }
  });

  it('edmPrecond feeds c_in·x and c_noise to the network and mixes its output', () => {
    const seen: number[] = [];
    const net = (xIn: tf.Tensor, cNoise: number) => {
      seen.push(cNoise);
      return xIn.mul(2);
    };
    const D = edmPrecond(net);
    const x = tf.tensor2d([[1, -2]]);
    const t = 1.5;
    const { cSkip, cOut, cIn, cNoise } = edmScalings(t);
    const out = D(x, t);
    assertClose(
      Array.from(out.dataSync()),
      [1, -2].map((v) => cSkip * v + cOut * 2 * cIn * v),
      1e-6,
    );
    assert.deepEqual(seen, [cNoise]);
    tf.dispose([x, out]);
  });

  it('a network answering with the wrong shape is a clear error; t ≤ 0 too', () => {
    const D = edmPrecond((xIn) => xIn.sum(-1, true));
    const x = tf.zeros([2, 3]);
    assert.throws(() => D(x, 1), /network output shape \[2,1\] differs from input \[2,3\]/);
    assert.throws(() => edmScalings(0), /t must be > 0/);
    x.dispose();
  });
});
