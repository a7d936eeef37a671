// The acks of a batch are awaited only when the next read asks, and a failed one is not lost.
import { describe, expect, it } from 'vitest';
import { createAckBatches } from './ack-batches.js';

function deferred() {
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('ack batches', () => {
  it('sends at once, and answers for ended batches only', async () => {
    const replies = new Map<string, ReturnType<typeof deferred>>();
    const sent: string[] = [];
    const acks = createAckBatches((id: string) => {
      sent.push(id);
      const reply = deferred();
      replies.set(id, reply);
      return reply.promise;
    });
    acks.ack('1-0');
    expect(sent).toEqual(['1-0']);
    expect(acks.isWaiting()).toBe(true);
    // Not ended yet: nothing to wait for.
    await acks.answered();
    acks.endBatch();
    let isAnswered = false;
    const answered = acks.answered().then(() => (isAnswered = true));
    acks.ack('2-0'); // the next batch's: not part of that wait
    await new Promise((resolve) => setImmediate(resolve));
    expect(isAnswered).toBe(false);
    replies.get('1-0')?.resolve();
    await answered;
    expect(isAnswered).toBe(true);
    expect(acks.isWaiting()).toBe(true);
    replies.get('2-0')?.resolve();
    await expect.poll(() => acks.isWaiting()).toBe(false);
  });

  it('rejects the next wait with a failed ack', async () => {
    const acks = createAckBatches(async (id: string) => {
      throw new Error(`XACK ${id} failed`);
    });
    acks.ack('1-0');
    acks.endBatch();
    await expect(acks.answered()).rejects.toThrow('XACK 1-0 failed');
    // Reported once: the batch is gone after its wait.
    await expect(acks.answered()).resolves.toBeUndefined();
  });
});
