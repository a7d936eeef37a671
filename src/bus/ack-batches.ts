// A consumer's XACKs, batch by batch, without a round trip of their own. Each goes out at once;
// a batch's replies are awaited only after the next read is sent: that read queues behind them on
// the same connection, so by its answer they have answered too. Before, the consumer waited for
// the replies, then read: one round trip per batch for nothing (issue #12: the master's status
// reader applies each agent's batch, acknowledges it, and reads on, one batch after another).
// A failed ack surfaces at the next `answered` (the loop's error path); a lost one only means the
// entry is delivered again, which at-least-once allows.

export interface AckBatches<TArgs extends unknown[]> {
  /** Sends one XACK now; its reply belongs to the current batch. */
  ack(...args: TArgs): void;
  /** The current batch ends: its replies are awaited by the next `answered`. */
  endBatch(): void;
  /** Resolves when the ended batches' replies came; rejects with the first failure. */
  answered(): Promise<void>;
  /** Whether acks sent are still unanswered (stopping waits for them a moment). */
  isWaiting(): boolean;
}

export function createAckBatches<TArgs extends unknown[]>(
  send: (...args: TArgs) => Promise<unknown>,
): AckBatches<TArgs> {
  let current: Promise<unknown>[] = [];
  let ended: Promise<unknown>[] = [];
  let unanswered = 0;
  return {
    ack(...args) {
      unanswered++;
      const sent = send(...args).finally(() => unanswered--);
      sent.catch(() => {}); // seen by `answered`; this only stops an early "unhandled" report
      current.push(sent);
    },
    endBatch() {
      ended.push(...current);
      current = [];
    },
    async answered() {
      const waiting = ended;
      ended = [];
      await Promise.all(waiting);
    },
    isWaiting: () => unanswered > 0,
  };
}
