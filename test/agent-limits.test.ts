// An agent in-process on real Redis with the real Wasm driver, attacked through its tasks:
// log floods (4 M newlines in one write, a 100 MiB line) and limit labels over its maxima
// (issue 11, rows 8 and 13). Run `npm run build` first: the Wasm workers run from dist/.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../src/agent/agent.js';
import { defaultAgentLimits } from '../src/agent/task-limits.js';
import type {
  Bus,
  LaunchCommand,
  LogMessage,
  OfferMessage,
  StatusMessage,
} from '../src/bus/index.js';
import { createRedisBus, topics } from '../src/bus/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createLogReader } from '../src/master/log-reader.js';
import { createWasmDriver } from '../src/runtime/index.js';
import { wasmTaskPath } from '../wasm-tasks/fixtures.js';
import { REDIS_URL, hasService, redisPrefix } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const ok = await hasService('redis');
const MAX_FUEL = defaultAgentLimits.fuelMax;

describe.skipIf(!ok)('an agent under hostile tasks', () => {
  let server: Server;
  let masterUrl: string;
  let bus: Bus;
  let agent: RunningAgent;
  let workDir: string;
  /** Every stream the agent published to, in order. */
  const published: string[] = [];
  let launched = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const name = path.basename(req.url ?? '');
      readFile(wasmTaskPath(name.replace(/\.wasm$/, ''))).then(
        (bytes) => res.end(bytes),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    masterUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const redis = createRedisBus({ url: REDIS_URL, prefix: redisPrefix(), logger: silentLogger() });
    bus = {
      publish: (stream, message, options) => {
        published.push(stream);
        return redis.publish(stream, message, options);
      },
      consume: (options) => redis.consume(options),
      consumeMany: (options) => redis.consumeMany(options),
      read: (stream, options) => redis.read(stream, options),
      tail: (stream, count) => redis.tail(stream, count),
      remove: (stream) => redis.remove(stream),
      close: () => redis.close(),
    };
    workDir = mkdtempSync(path.join(tmpdir(), 'pacer-agent-limits-'));
    agent = await startAgent({
      bus,
      drivers: [createWasmDriver({ logger: silentLogger(), poolSize: 2 })],
      hostname: 'limits',
      attributes: {},
      resources: { cpus: 4, memMiB: 1024, diskMiB: 1024, ports: [] },
      workDir,
      masterUrl,
      clock: systemClock,
      logger: silentLogger(),
      offerIntervalMs: 100,
      limits: { ...defaultAgentLimits, fuel: 1_000_000n, timeoutSecondsMax: 60, memMaxMiB: 256 },
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await bus?.close();
    server?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function launch(
    module: string,
    options: { memMiB?: number; labels?: Record<string, string> } = {},
  ) {
    const taskId = `limits.${module}-${++launched}`;
    const command: LaunchCommand = {
      type: 'launch',
      taskId,
      spec: {
        kind: 'wasm',
        appId: '/limits',
        appVersion: 'v1',
        cmd: `${module}.wasm`,
        env: {},
        labels: options.labels ?? {},
        fetch: [{ uri: `/files/${module}.wasm`, extract: false, executable: false, cache: true }],
        resources: { cpus: 0.1, memMiB: options.memMiB ?? 16, diskMiB: 16 },
        ports: [],
        killGracePeriodSeconds: 0,
      },
    };
    await bus.publish(topics.commands(agent.agentId), command);
    return taskId;
  }

  async function statesOf(taskId: string): Promise<StatusMessage[]> {
    const entries = await bus.read<StatusMessage>(topics.status(agent.agentId), { count: 100_000 });
    return entries.map((e) => e.message).filter((m) => m.type === 'status' && m.taskId === taskId);
  }

  async function ended(taskId: string): Promise<StatusMessage> {
    return waitFor(
      `the end of ${taskId}`,
      async () => {
        const last = (await statesOf(taskId)).at(-1);
        const isEnded = ['TASK_FAILED', 'TASK_KILLED', 'TASK_FINISHED'].includes(last?.state ?? '');
        return isEnded ? last : undefined;
      },
      30_000,
    );
  }

  async function logEntries(taskId: string): Promise<LogMessage[]> {
    return (
      await bus.read<LogMessage>(topics.logs(agent.agentId, taskId), { count: 1_000_000 })
    ).map((e) => e.message);
  }

  /**
   * Runs a flooding module until the agent has published the dropped marker and then offered
   * three more times with the task running (its event loop keeps turning), then kills it.
   */
  async function flood(module: string, memMiB: number) {
    const fuel = String(defaultAgentLimits.fuelMax);
    const taskId = await launch(module, { memMiB, labels: { PACER_WASM_FUEL: fuel } });
    const reader = createLogReader({ bus, agentOf: () => agent.agentId });
    await waitFor(
      'the dropped marker',
      async () => {
        const lines = await reader.read(taskId, { tail: 100_000 });
        return lines.some((l) => /^\[pacer: \d+ lines dropped\]$/.test(l.line));
      },
      60_000,
    );
    const offersBefore = published.filter((s) => s === topics.offers(agent.agentId)).length;
    await waitFor(
      'three more offers with the task running',
      async () => {
        const offers = await bus.tail<OfferMessage>(topics.offers(agent.agentId), 1);
        const offered = published.filter((s) => s === topics.offers(agent.agentId)).length;
        return offers[0]?.message.runningTaskIds.includes(taskId) && offered > offersBefore + 3;
      },
      60_000,
    );
    const last = (await statesOf(taskId)).at(-1);
    expect(last?.state).toBe('TASK_RUNNING');
    await bus.publish(topics.commands(agent.agentId), { type: 'kill', taskId });
    expect((await ended(taskId)).state).toBe('TASK_KILLED');
    return { taskId, entries: await logEntries(taskId) };
  }

  it('stays responsive while a task writes 4 M newlines per write: batches, a marker, a bounded bus', async () => {
    const { taskId, entries } = await flood('log-flood', 16);
    const lines = entries.flatMap((e) => e.lines);
    // The task wrote at least 4 M lines; the bus got a few batches of at most a thousand lines.
    expect(published.filter((s) => s === topics.logs(agent.agentId, taskId)).length).toBeLessThan(
      4_000,
    );
    expect(entries.every((e) => e.lines.length <= 1_002)).toBe(true);
    expect(lines.length).toBeLessThan(40_000);
    expect(lines.some((l) => /^\[pacer: \d+ lines dropped\]$/.test(l.line))).toBe(true);
    const offer = (await bus.tail<OfferMessage>(topics.offers(agent.agentId), 1))[0]?.message;
    expect(offer?.logLinesDropped).toBeGreaterThan(0);
  });

  it('stays responsive while a task writes a 100 MiB line per write: pieces bounded in bytes', async () => {
    const { taskId, entries } = await flood('long-line', 128);
    const lines = entries.flatMap((e) => e.lines);
    expect(published.filter((s) => s === topics.logs(agent.agentId, taskId)).length).toBeLessThan(
      4_000,
    );
    const bytes = lines.reduce((n, l) => n + l.line.length, 0);
    expect(bytes).toBeLessThan((100 * 1024 * 1024) / 10);
    expect(lines.every((l) => l.line.length <= 16 * 1024)).toBe(true);
  });

  it('fails a task at start whose labels or mem ask for more than the agent allows', async () => {
    const cases: {
      labels: Record<string, string>;
      memMiB?: number;
      reason: string;
      words: string;
    }[] = [
      {
        labels: { PACER_WASM_FUEL: `${MAX_FUEL + 1n}` },
        reason: 'OUT_OF_FUEL',
        words: 'over this',
      },
      { labels: { PACER_WASM_FUEL: '0' }, reason: 'OUT_OF_FUEL', words: 'not a whole number' },
      { labels: { PACER_WASM_TIMEOUT_SECONDS: '61' }, reason: 'TIMEOUT', words: 'maximum of 60' },
      { labels: { PACER_WASM_TIMEOUT_SECONDS: '0' }, reason: 'TIMEOUT', words: 'not a whole' },
      { labels: {}, memMiB: 257, reason: 'MEMORY_LIMIT', words: 'maximum of 256 MiB' },
    ];
    for (const { labels, memMiB, reason, words } of cases) {
      const taskId = await launch('hello', { labels, memMiB });
      const status = await ended(taskId);
      expect(status, JSON.stringify(labels)).toMatchObject({ state: 'TASK_FAILED', reason });
      expect(status.message).toContain(words);
      // Refused before it ran: never RUNNING.
      expect((await statesOf(taskId)).map((s) => s.state)).not.toContain('TASK_RUNNING');
    }
  });

  it('runs a task with labels up to the maximum, with the fuel it asked for', async () => {
    const atMax = await ended(
      await launch('hello', { labels: { PACER_WASM_FUEL: `${MAX_FUEL}` } }),
    );
    expect(atMax.state).toBe('TASK_FINISHED');
    const spinner = await ended(await launch('loop', { labels: { PACER_WASM_FUEL: '100000' } }));
    expect(spinner).toMatchObject({ state: 'TASK_FAILED', reason: 'OUT_OF_FUEL' });
    expect(spinner.message).toContain('100000');
  });
});
