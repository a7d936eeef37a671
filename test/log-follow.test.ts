// Following a task's logs (GET /v2/tasks/{id}/logs?follow=true): the last lines, then every
// line written after them, with no gap. The agent may write a batch between the moment the
// tail is read and the moment following starts; that batch must be streamed, not skipped.
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus, LogMessage } from '../src/bus/index.js';
import { createMemoryBus, createRedisBus, topics } from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';
import { createLogReader } from '../src/master/log-reader.js';
import { REDIS_URL, hasService, redisPrefix } from './support/services.js';

const hasRedis = await hasService('redis');
const buses: Bus[] = [];
afterAll(() => Promise.all(buses.map((bus) => bus.close())));

const batch = (...lines: string[]): LogMessage => ({
  at: 1,
  lines: lines.map((line) => ({ stream: 'stdout' as const, line })),
});

/** `bus`, but an agent writes `late` right after the first tail read (the race). */
function withLateWrite(bus: Bus, stream: string, late: LogMessage): Bus {
  let isWritten = false;
  return {
    ...bus,
    async tail(key, count) {
      const entries = await bus.tail(key, count);
      if (!isWritten && key === stream) {
        isWritten = true;
        await bus.publish(stream, late);
      }
      return entries as never;
    },
  };
}

async function followed(bus: Bus, tail: number, count: number): Promise<string[]> {
  const stream = topics.logs('a1', 't1');
  await bus.publish(stream, batch('1', '2'));
  await bus.publish(stream, batch('3'));
  const reader = createLogReader({
    bus: withLateWrite(bus, stream, batch('4', '5')),
    agentOf: (taskId) => (taskId === 't1' ? 'a1' : undefined),
  });
  const controller = new AbortController();
  const lines: string[] = [];
  for await (const line of reader.follow('t1', { tail, signal: controller.signal })) {
    lines.push(line.line);
    if (lines.length === count) controller.abort();
  }
  return lines;
}

const factories: [string, () => Bus][] = [
  ['memory', () => createMemoryBus({ logger: silentLogger() })],
];
if (hasRedis)
  factories.push([
    'redis',
    () => createRedisBus({ url: REDIS_URL, prefix: redisPrefix(), logger: silentLogger() }),
  ]);

describe.each(factories)('log follow on the %s bus', (_name, create) => {
  it('streams the last lines, then a batch written while the tail was read', async () => {
    const bus = create();
    buses.push(bus);
    expect(await followed(bus, 2, 4)).toEqual(['2', '3', '4', '5']);
  });

  it('with tail 0, streams only what is written after it starts', async () => {
    const bus = create();
    buses.push(bus);
    expect(await followed(bus, 0, 2)).toEqual(['4', '5']);
  });
});
