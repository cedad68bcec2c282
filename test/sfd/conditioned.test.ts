import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '../../lib/diffusion/denoiser';
import { timeGrid } from '../../lib/diffusion/schedules';
import { conditionedDenoiser } from '../../lib/sfd/conditioned';

const ts = timeGrid(5, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 });

/** A denoiser that records the condition of each call. */
function recording() {
  const conds: (Conditioning | undefined)[] = [];
  const d: Denoiser = (x, _t, cond) => {
    conds.push(cond);
    return x.clone();
  };
  return { d, conds };
}

/** Calls `d` at each of the grid's step times (all but the last), freeing what it makes. */
function callAtEachStep(d: Denoiser) {
  const x = tf.zeros([1, 2]);
  for (const t of ts.slice(0, -1)) d(x, t).dispose();
  x.dispose();
}

describe('conditionedDenoiser (a step-conditioned student as a plain denoiser on its grid)', () => {
  it('a plain student (condition none) is passed through as it is', () => {
    const { d } = recording();
    assert.equal(conditionedDenoiser(d, 'none', ts), d);
  });

  it('step: the call at every grid step gets N, the number of timestamps', () => {
    const { d, conds } = recording();
    callAtEachStep(conditionedDenoiser(d, 'step', ts));
    assert.deepEqual(conds, [{ step: 5 }, { step: 5 }, { step: 5 }, { step: 5 }]);
  });

  it('tnext: the call at ts[j] gets ts[j+1]', () => {
    const { d, conds } = recording();
    callAtEachStep(conditionedDenoiser(d, 'tnext', ts));
    assert.deepEqual(
      conds,
      ts.slice(1).map((tNext) => ({ tNext })),
    );
  });

  it('a call off the grid, or at its last time (no step starts there), is refused', () => {
    const { d, conds } = recording();
    const c = conditionedDenoiser(d, 'step', ts);
    const x = tf.zeros([1, 2]);
    assert.throws(
      () => c(x, 1.0),
      /a step-conditioned student is called at t = 1, not one of its grid's steps/,
    );
    assert.throws(() => c(x, ts[4]), /not one of its grid's steps/);
    assert.equal(conds.length, 0);
    x.dispose();
  });
});
