// Task logs as the API serves them: read from the bus stream each agent writes per task, under
// the agent's own name (so only the agent the task was placed on can have written them), where
// one entry holds a batch of lines.
import type { Bus, BusEntry, LogMessage, LogMessageLine } from '../bus/index.js';
import { topics } from '../bus/index.js';
// Not in the bus's index: the zod schemas stay out of the agent (bus/index.ts).
import { LogMessageSchema } from '../bus/message-schemas.js';
import { toTimestamp } from '../domain/index.js';
import type { LogLine } from '../domain/index.js';
import type { LogReader } from './services.js';

/** Entries read from the stream per follow round; lines of the other stream are filtered out. */
const FOLLOW_BATCH = 200;
const FOLLOW_BLOCK_MS = 1_000;

/** The lines of an entry an agent wrote in the shape of a log batch; anything else shows nothing. */
function linesOf(
  entry: BusEntry<LogMessage>,
  stream: LogMessageLine['stream'] | undefined,
): LogLine[] {
  if (!LogMessageSchema.safeParse(entry.message).success) return [];
  const timestamp = toTimestamp(entry.message.at);
  return entry.message.lines
    .filter((l) => !stream || l.stream === stream)
    .map((l) => ({ stream: l.stream, line: l.line, timestamp }));
}

export function createLogReader(options: {
  bus: Bus;
  /** The agent a task was placed on; a task without one has no logs. */
  agentOf: (taskId: string) => string | undefined;
}): LogReader {
  const { bus, agentOf } = options;

  /** The last `tail` lines of stream `key`, and the id of the stream's last entry then. */
  async function readTail(
    key: string,
    stream: LogMessageLine['stream'] | undefined,
    tail: number,
  ): Promise<{ lines: LogLine[]; lastId: string }> {
    if (tail <= 0) {
      const last = await bus.tail<LogMessage>(key, 1);
      return { lines: [], lastId: last[0]?.id ?? '0-0' };
    }
    // An entry holds one line or more: read more entries until `tail` lines of the wanted
    // stream are in hand or the stream has no more (each round four times the last).
    let count = tail;
    for (;;) {
      const entries = await bus.tail<LogMessage>(key, count);
      const lines = entries.flatMap((e) => linesOf(e, stream));
      const isAll = entries.length < count;
      if (lines.length >= tail || isAll || count >= tail * 16)
        return { lines: lines.slice(-tail), lastId: entries.at(-1)?.id ?? '0-0' };
      count *= 4;
    }
  }

  return {
    async read(taskId, { stream, tail }) {
      const agentId = agentOf(taskId);
      if (tail <= 0 || agentId === undefined) return [];
      return (await readTail(topics.logs(agentId, taskId), stream, tail)).lines;
    },

    async *follow(taskId, { stream, tail, signal }) {
      const agentId = agentOf(taskId);
      if (agentId === undefined) return;
      const key = topics.logs(agentId, taskId);
      const start = await readTail(key, stream, tail);
      yield* start.lines;
      let afterId = start.lastId;
      while (!signal.aborted) {
        const entries = await bus.read<LogMessage>(key, {
          afterId,
          count: FOLLOW_BATCH,
          blockMs: FOLLOW_BLOCK_MS,
        });
        for (const entry of entries) {
          afterId = entry.id;
          yield* linesOf(entry, stream);
        }
      }
    },
  };
}
