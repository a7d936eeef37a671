// Per-stage times of an end-to-end run, read back from the bus after it: when the master
// published the launch commands and when agents published each task state. A stream entry's
// id starts with the Redis clock's millisecond at the append, so no process needs to log.
import {
  createRedisBus,
  topics,
  type CommandMessage,
  type StatusMessage,
} from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';

export interface StageTimes {
  /** Milliseconds after the POST (same machine clock): the first and the last launch published. */
  firstLaunchMs: number;
  lastLaunchMs: number;
  /**
   * When agents had published the last report of each state (first incarnations only). Agents
   * report from TASK_STARTING on: TASK_STAGING is the master's, with the placement.
   */
  lastStartingMs: number;
  lastRunningMs: number;
}

async function readAll<T>(
  bus: ReturnType<typeof createRedisBus>,
  stream: string,
): Promise<{ atMs: number; message: T }[]> {
  const out: { atMs: number; message: T }[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await bus.read<T>(stream, { afterId, count: 5000 });
    for (const entry of page)
      out.push({ atMs: Number(entry.id.split('-')[0]), message: entry.message });
    const last = page.at(-1);
    if (!last) return out;
    afterId = last.id;
  }
}

export async function stageTimes(options: {
  redisUrl: string;
  prefix: string;
  agentIds: string[];
  postedAtMs: number;
}): Promise<StageTimes> {
  const bus = createRedisBus({
    url: options.redisUrl,
    prefix: options.prefix,
    logger: silentLogger(),
  });
  // A warm-up app's messages came before the POST.
  const isMeasured = (atMs: number) => atMs >= options.postedAtMs;
  try {
    const launches: number[] = [];
    for (const agentId of options.agentIds)
      for (const { atMs, message } of await readAll<CommandMessage>(bus, topics.commands(agentId)))
        if (isMeasured(atMs) && message.type === 'launch' && message.taskId.endsWith('._app.1'))
          launches.push(atMs);
    const last = new Map<string, number>();
    const statuses = [];
    for (const agentId of options.agentIds)
      statuses.push(...(await readAll<StatusMessage>(bus, topics.status(agentId))));
    for (const { atMs, message } of statuses) {
      if (!isMeasured(atMs) || message.type !== 'status' || !message.taskId.endsWith('._app.1'))
        continue;
      last.set(message.state, Math.max(last.get(message.state) ?? 0, atMs));
    }
    const since = (atMs: number | undefined) => (atMs ?? NaN) - options.postedAtMs;
    return {
      firstLaunchMs: since(Math.min(...launches)),
      lastLaunchMs: since(Math.max(...launches)),
      lastStartingMs: since(last.get('TASK_STARTING')),
      lastRunningMs: since(last.get('TASK_RUNNING')),
    };
  } finally {
    await bus.close();
  }
}
