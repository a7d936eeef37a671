// Task logs as the API serves them: read from the bus stream each agent writes per task, where
// one entry holds a batch of lines.
import type { Bus, BusEntry, LogMessage, LogMessageLine } from '../bus/index.js';
import { topics } from '../bus/index.js';
import { toTimestamp } from '../domain/index.js';
import type { LogLine, LogReader } from './services.js';

/** Entries read from the stream per follow round; lines of the other stream are filtered out. */
const FOLLOW_BATCH = 200;
const FOLLOW_BLOCK_MS = 1_000;

/** COMPAT: an entry of one line, as agents before batching wrote; remove once none run. */
type OneLineMessage = LogMessageLine & { at: number };

function linesOf(
  message: LogMessage | OneLineMessage,
  stream: LogMessageLine['stream'] | undefined,
): LogLine[] {
  const lines = 'lines' in message ? message.lines : [message];
  const timestamp = toTimestamp(message.at);
  return lines
    .filter((l) => !stream || l.stream === stream)
    .map((l) => ({ stream: l.stream, line: l.line, timestamp }));
}

export function createLogReader(options: { bus: Bus }): LogReader {
  const { bus } = options;
  const key = topics.logs;
  return {
    async read(taskId, { stream, tail }) {
      if (tail <= 0) return [];
      // An entry holds one line or more: read more entries until `tail` lines of the wanted
      // stream are in hand or the stream has no more (each round four times the last).
      let count = tail;
      for (;;) {
        const entries = await bus.tail<LogMessage | OneLineMessage>(key(taskId), count);
        const lines = entries.flatMap((e) => linesOf(e.message, stream));
        const isAll = entries.length < count;
        if (lines.length >= tail || isAll || count >= tail * 16) return lines.slice(-tail);
        count *= 4;
      }
    },

    async *follow(taskId, { stream, signal }) {
      const last = await bus.tail<LogMessage>(key(taskId), 1);
      let afterId = last[0]?.id ?? '0-0';
      while (!signal.aborted) {
        const entries: BusEntry<LogMessage | OneLineMessage>[] = await bus.read(key(taskId), {
          afterId,
          count: FOLLOW_BATCH,
          blockMs: FOLLOW_BLOCK_MS,
        });
        for (const entry of entries) {
          afterId = entry.id;
          yield* linesOf(entry.message, stream);
        }
      }
    },
  };
}
