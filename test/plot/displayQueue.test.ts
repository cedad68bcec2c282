import { strict as assert } from 'node:assert';
import { displaysSent, sendDisplay, type Writer } from '../../lib/plot/display';

/** A kernel writer whose socket is busy for the first `busyFor` sends (as tslab's zeromq socket can be). */
function kernel(busyFor: number) {
  const sent: { text: unknown; update: boolean }[] = [];
  let refusals = busyFor;
  const w: Writer = (msg, update) => {
    if (refusals > 0) {
      refusals--;
      throw Object.assign(new Error('Socket is busy writing'), { code: 'EBUSY' });
    }
    sent.push({ text: msg.data['text/plain'], update });
  };
  return { w, sent };
}

const msg = (text: string, id?: string) => ({
  data: { 'text/plain': text },
  metadata: {},
  transient: id ? { display_id: id } : {},
});

describe('display sending while the kernel socket is busy', () => {
  it('sends at once when the socket is free', async () => {
    const k = kernel(0);
    sendDisplay(k.w, msg('a'), false);
    assert.deepEqual(
      k.sent.map((s) => s.text),
      ['a'],
    );
    await displaysSent();
  });

  it('queues refused outputs and sends them later, in order', async () => {
    const k = kernel(3);
    sendDisplay(k.w, msg('table'), false);
    sendDisplay(k.w, msg('figure'), false);
    assert.equal(k.sent.length, 0);
    await displaysSent();
    assert.deepEqual(
      k.sent.map((s) => s.text),
      ['table', 'figure'],
    );
  });

  it('keeps only the latest waiting update of a live display, and its first showing', async () => {
    const k = kernel(2);
    sendDisplay(k.w, msg('iteration 1', 'v'), false);
    for (let i = 2; i <= 50; i++) sendDisplay(k.w, msg(`iteration ${i}`, 'v'), true);
    await displaysSent();
    assert.deepEqual(k.sent, [
      { text: 'iteration 1', update: false },
      { text: 'iteration 50', update: true },
    ]);
  });

  it('a writer failing otherwise loses that output only (the computation goes on)', async () => {
    const sent: unknown[] = [];
    let calls = 0;
    const w: Writer = (m) => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('busy'), { code: 'EBUSY' });
      if (calls === 2) throw new Error('serialisation failed');
      sent.push(m.data['text/plain']);
    };
    sendDisplay(w, msg('lost'), false);
    sendDisplay(w, msg('kept'), false);
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(' '));
    try {
      await displaysSent();
    } finally {
      console.error = original;
    }
    assert.deepEqual(sent, ['kept']);
    assert.deepEqual(errors, ['a display output could not be sent: serialisation failed']);
  });
});
