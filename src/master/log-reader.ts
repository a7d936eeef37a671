// Task logs as the API serves them: read from the bus stream each agent writes per task, under
// the agent's own name, so only the agent the task was placed on can have written them.
import type { Bus, BusEntry, LogMessage } from '../bus/index.js';
import { LogMessageSchema, topics } from '../bus/index.js';
import { toTimestamp } from '../domain/index.js';
import type { LogLine, LogReader } from './services.js';

/** Entries read from the stream per follow round; lines of the other stream are filtered out. */
const FOLLOW_BATCH = 200;
const FOLLOW_BLOCK_MS = 1_000;

function toLine(message: LogMessage): LogLine {
  return { stream: message.stream, line: message.line, timestamp: toTimestamp(message.at) };
}

/** Lines an agent wrote in the shape of a log line; anything else is not shown. */
const isLogLine = (entry: BusEntry<LogMessage>) =>
  LogMessageSchema.safeParse(entry.message).success;

export function createLogReader(options: {
  bus: Bus;
  /** The agent a task was placed on; a task without one has no logs. */
  agentOf: (taskId: string) => string | undefined;
}): LogReader {
  const { bus, agentOf } = options;
  return {
    async read(taskId, { stream, tail }) {
      const agentId = agentOf(taskId);
      if (tail <= 0 || agentId === undefined) return [];
      // Read more than asked when filtering by stream, so `tail` lines of that stream come back.
      const key = topics.logs(agentId, taskId);
      const entries = (await bus.tail<LogMessage>(key, stream ? tail * 4 : tail)).filter(isLogLine);
      const lines = entries.map((e) => e.message).filter((m) => !stream || m.stream === stream);
      return lines.slice(-tail).map(toLine);
    },

    async *follow(taskId, { stream, signal }) {
      const agentId = agentOf(taskId);
      if (agentId === undefined) return;
      const key = topics.logs(agentId, taskId);
      const last = await bus.tail<LogMessage>(key, 1);
      let afterId = last[0]?.id ?? '0-0';
      while (!signal.aborted) {
        const entries = await bus.read<LogMessage>(key, {
          afterId,
          count: FOLLOW_BATCH,
          blockMs: FOLLOW_BLOCK_MS,
        });
        for (const entry of entries) {
          afterId = entry.id;
          if (isLogLine(entry) && (!stream || entry.message.stream === stream))
            yield toLine(entry.message);
        }
      }
    },
  };
}
