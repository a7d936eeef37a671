// Hands the entries of one read to a consumer's handler (one call per entry, or one for all with
// `handleBatch`), acknowledging what was handled. Shared by the Redis and in-process consumers.
import type { BusEntry, ConsumeOptions } from './bus.js';

export interface BatchDelivery<TRaw, T> {
  /** The entry's id and message; the message is undefined (and the entry dealt with) when it does not decode. */
  decode: (raw: TRaw) => { id: string; message: T | undefined };
  /** Runs a handler call; false when it rejected (reported: its entries stay pending). */
  deliver: (call: () => Promise<void>, id: string) => Promise<boolean>;
  ack: (id: string) => void;
  isStopped: () => boolean;
}

/** Delivers `batch` in stream order; stops between entries once the consumer is stopped. */
export async function deliverBatch<TRaw, T>(
  options: ConsumeOptions<T>,
  batch: TRaw[],
  delivery: BatchDelivery<TRaw, T>,
): Promise<void> {
  const { decode, deliver, ack, isStopped } = delivery;
  if (options.handleBatch) {
    const entries: BusEntry<T>[] = [];
    for (const raw of batch) {
      const { id, message } = decode(raw);
      if (message !== undefined) entries.push({ id, message });
    }
    const first = entries[0];
    if (!first || isStopped()) return;
    const handleBatch = options.handleBatch;
    if (await deliver(() => handleBatch(entries), first.id))
      for (const entry of entries) ack(entry.id);
    return;
  }
  const handler = options.handler;
  for (const raw of batch) {
    if (isStopped()) break;
    const { id, message } = decode(raw);
    if (message === undefined) continue;
    if (await deliver(() => handler({ id, message }), id)) ack(id);
  }
}
