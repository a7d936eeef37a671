import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogMessage } from '../bus/index.js';
import { createMemoryBus, topics } from '../bus/index.js';
import { silentLogger } from '../lib/index.js';
import { createLogReader } from '../master/log-reader.js';
import { createLogPacer, defaultLogLimits, type LogLimits } from './log-pacer.js';
import { waitFor } from '../../test/support/wait-for.js';

afterEach(() => {
  vi.useRealTimers();
});

function pacerWith(limits: Partial<LogLimits>) {
  let now = 1_000_000;
  const published: { message: LogMessage; maxLen: number }[] = [];
  let dropped = 0;
  const pacer = createLogPacer({
    clock: { now: () => now },
    limits: { ...defaultLogLimits, ...limits },
    publish: async (message, maxLen) => {
      published.push({ message, maxLen });
    },
    onDropped: (count) => {
      dropped += count;
    },
  });
  return {
    pacer,
    published,
    dropped: () => dropped,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('createLogPacer', () => {
  it('publishes a million lines written at once as a few batches and one dropped marker', async () => {
    const { pacer, published, dropped } = pacerWith({ lineBurst: 2_000, maxBatchLines: 500 });
    for (let i = 0; i < 1_000_000; i++) pacer.line('stdout', '');
    await pacer.flush();
    await pacer.flush();
    const lines = published.flatMap((p) => p.message.lines);
    // One batch on its way and one waiting: what comes in the same tick beyond them is dropped.
    expect(lines.filter((l) => l.line === '')).toHaveLength(1_000);
    expect(lines.at(-1)).toEqual({ stream: 'stdout', line: '[pacer: 999000 lines dropped]' });
    expect(published).toHaveLength(2);
    expect(published.every((p) => p.message.lines.length <= 501)).toBe(true);
    expect(dropped()).toBe(999_000);
  });

  it('refills its buckets with time: the rate applies, not a lifetime quota', async () => {
    const { pacer, published, advance } = pacerWith({ linesPerSecond: 10, lineBurst: 10 });
    for (let i = 0; i < 20; i++) pacer.line('stderr', `a${i}`);
    advance(1_000);
    for (let i = 0; i < 20; i++) pacer.line('stderr', `b${i}`);
    await pacer.flush();
    await pacer.flush();
    const lines = published.flatMap((p) => p.message.lines.map((l) => l.line));
    expect(lines.filter((l) => l.startsWith('a'))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith('b'))).toHaveLength(10);
    expect(lines).toContain('[pacer: 20 lines dropped]');
  });

  it('cuts a line over maxLineBytes without splitting a character, and charges bytes', async () => {
    const { pacer, published } = pacerWith({ maxLineBytes: 10, byteBurst: 15 });
    pacer.line('stdout', 'ééééééé'); // 14 bytes → 5 characters, 10 bytes
    pacer.line('stdout', 'x'.repeat(100)); // cut to 10 bytes, over the 5 bytes left
    await pacer.flush();
    expect(published[0]?.message.lines.map((l) => l.line)).toEqual([
      'ééééé',
      '[pacer: 1 lines dropped]',
    ]);
  });

  it('holds at most one batch while a publish is slow, dropping the rest', async () => {
    let release: () => void = () => undefined;
    const calls: LogMessage[] = [];
    const pacer = createLogPacer({
      clock: { now: () => 0 },
      limits: { ...defaultLogLimits, maxBatchLines: 10 },
      publish: (message) => {
        calls.push(message);
        return new Promise((resolve) => (release = resolve));
      },
      onDropped: () => undefined,
    });
    for (let i = 0; i < 1000; i++) pacer.line('stdout', String(i));
    expect(calls).toHaveLength(1);
    release();
    await waitFor('the second batch', () => calls.length === 2);
    release();
    await pacer.flush();
    expect(calls[1]?.lines.map((l) => l.line)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => String(10 + i)),
      '[pacer: 980 lines dropped]',
    ]);
  });

  it('trims the bus stream by entries to about keepLines lines, however lines are batched', async () => {
    const { pacer, published } = pacerWith({ keepLines: 100, maxBatchLines: 50 });
    for (let i = 0; i < 500; i++) pacer.line('stdout', String(i));
    await pacer.flush();
    expect(published.at(-1)?.maxLen).toBe(2);
    for (let i = 0; i < 5; i++) {
      pacer.line('stdout', 'quiet');
      await pacer.flush();
    }
    expect(published.at(-1)?.maxLen).toBe(7);
  });
});

describe('createLogReader on batched entries', () => {
  it('answers the last lines of one stream across batches, and shows nothing of a malformed entry', async () => {
    const bus = createMemoryBus({ logger: silentLogger() });
    const stream = topics.logs('a1', 't1');
    await bus.publish(stream, { stream: 'stdout', line: 'not a batch', at: 1 });
    for (let b = 0; b < 5; b++) {
      const lines = Array.from({ length: 10 }, (_, i) => ({
        stream: i % 5 === 0 ? ('stderr' as const) : ('stdout' as const),
        line: `${b}.${i}`,
      }));
      await bus.publish(stream, { at: 2, lines } satisfies LogMessage);
    }
    const reader = createLogReader({
      bus,
      agentOf: (taskId) => (taskId === 't1' ? 'a1' : undefined),
    });
    const stderr = await reader.read('t1', { stream: 'stderr', tail: 4 });
    expect(stderr.map((l) => l.line)).toEqual(['3.0', '3.5', '4.0', '4.5']);
    const all = await reader.read('t1', { tail: 100 });
    expect(all).toHaveLength(50);
    expect(all.some((l) => l.line === 'not a batch')).toBe(false);
    expect(await reader.read('t2', { tail: 100 })).toEqual([]);
    await bus.close();
  });
});
