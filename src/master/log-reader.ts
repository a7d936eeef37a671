// Task logs as the API serves them: read from the bus stream each agent writes per task.
import type { Bus, LogMessage } from '../bus/index.js';
import { topics } from '../bus/index.js';
import { toTimestamp } from '../domain/index.js';
import type { LogLine, LogReader } from './services.js';

/** Entries read from the stream per follow round; lines of the other stream are filtered out. */
const FOLLOW_BATCH = 200;
const FOLLOW_BLOCK_MS = 1_000;

function toLine(message: LogMessage): LogLine {
  return { stream: message.stream, line: message.line, timestamp: toTimestamp(message.at) };
}

export function createLogReader(options: { bus: Bus }): LogReader {
  const { bus } = options;
  return {
    async read(taskId, { stream, tail }) {
      if (tail <= 0) return [];
      // Read more than asked when filtering by stream, so `tail` lines of that stream come back.
      const entries = await bus.tail<LogMessage>(topics.logs(taskId), stream ? tail * 4 : tail);
      const lines = entries.map((e) => e.message).filter((m) => !stream || m.stream === stream);
      return lines.slice(-tail).map(toLine);
    },

    async *follow(taskId, { stream, signal }) {
      const last = await bus.tail<LogMessage>(topics.logs(taskId), 1);
      let afterId = last[0]?.id ?? '0-0';
      while (!signal.aborted) {
        const entries = await bus.read<LogMessage>(topics.logs(taskId), {
          afterId,
          count: FOLLOW_BATCH,
          blockMs: FOLLOW_BLOCK_MS,
        });
        for (const entry of entries) {
          afterId = entry.id;
          if (!stream || entry.message.stream === stream) yield toLine(entry.message);
        }
      }
    },
  };
}
