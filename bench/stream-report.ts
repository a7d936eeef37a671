// What the bus looked like when an end-to-end run did not converge: per agent, the length of its
// streams, what its command stream carried (launches, kills, acknowledgements, resend requests)
// and how far the master's consumer group has read its offers and status (read, pending, lag).
import { Redis } from 'ioredis';

export interface AgentStreams {
  agentId: string;
  commands: { length: number; byType: Record<string, number> };
  status: { length: number; group?: GroupInfo };
  offers: { length: number; group?: GroupInfo };
}

interface GroupInfo {
  /** Entries delivered to the group so far (Redis ≥ 7), pending (delivered, not acknowledged). */
  entriesRead?: number;
  pending: number;
  lag?: number;
}

/** XINFO GROUPS' reply, a flat [field, value, …] list per group. */
function groupInfo(reply: unknown, group: string): GroupInfo | undefined {
  for (const raw of reply as unknown[][]) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < raw.length; i += 2) fields.set(String(raw[i]), raw[i + 1]);
    if (fields.get('name') !== group) continue;
    const number = (name: string) => {
      const value = fields.get(name);
      return value === null || value === undefined ? undefined : Number(value);
    };
    return {
      entriesRead: number('entries-read'),
      pending: number('pending') ?? 0,
      lag: number('lag'),
    };
  }
  return undefined;
}

export async function streamReport(options: {
  redisUrl: string;
  prefix: string;
  /** Reads every command to count them by type (slow on long streams). */
  shouldCountCommands?: boolean;
}): Promise<AgentStreams[]> {
  const redis = new Redis(options.redisUrl, { protocol: 2, maxRetriesPerRequest: 1 });
  const key = (stream: string) => `${options.prefix}agent:${stream}`;
  try {
    // Every agent that was sent a command, found on the bus (the API may not answer).
    const agentIds = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', key('*:commands'), 'COUNT', 1000);
      cursor = next;
      for (const found of keys) agentIds.add(found.slice(key('').length, -':commands'.length));
    } while (cursor !== '0');
    const out: AgentStreams[] = [];
    for (const agentId of [...agentIds].sort()) {
      const byType: Record<string, number> = {};
      let start = '-';
      while (options.shouldCountCommands) {
        const page = (
          await redis.xrange(key(`${agentId}:commands`), start, '+', 'COUNT', 5000)
        ).filter(([id]) => id !== start);
        if (page.length === 0) break;
        for (const [, fields] of page) {
          const type = (JSON.parse(fields[1] ?? '{}') as { type?: string }).type ?? '?';
          byType[type] = (byType[type] ?? 0) + 1;
        }
        start = (page.at(-1) as [string, string[]])[0];
      }
      const groups = async (stream: string) =>
        groupInfo(await redis.call('XINFO', 'GROUPS', key(stream)).catch(() => []), 'master');
      out.push({
        agentId,
        commands: { length: await redis.xlen(key(`${agentId}:commands`)), byType },
        status: {
          length: await redis.xlen(key(`${agentId}:status`)),
          group: await groups(`${agentId}:status`),
        },
        offers: {
          length: await redis.xlen(key(`${agentId}:offers`)),
          group: await groups(`${agentId}:offers`),
        },
      });
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** One line per agent, for a failure message. */
export function formatStreamReport(report: AgentStreams[]): string {
  const group = (g?: GroupInfo) =>
    g ? `read ${g.entriesRead ?? '?'} pending ${g.pending} lag ${g.lag ?? '?'}` : 'no group';
  return report
    .map(
      (a) =>
        `${a.agentId}: commands ${a.commands.length} ${JSON.stringify(a.commands.byType)}; ` +
        `status ${a.status.length} (${group(a.status.group)}); ` +
        `offers ${a.offers.length} (${group(a.offers.group)})`,
    )
    .join('\n');
}
