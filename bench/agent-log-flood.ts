// Agent event-loop lag while one task floods its logs (issue 11, rule 5): a real agent
// (agent.ts, the in-memory bus, the Wasm driver) runs newline-flood.wasm, and
// perf_hooks.monitorEventLoopDelay measures the agent's loop; the baseline is the same agent
// running a quiet task (service.wasm printing every 10 ms) in the same run. Each measurement runs
// in a child process, so that an agent whose loop never comes back cannot hang the benchmark.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startAgent } from '../src/agent/agent.js';
import { createMemoryBus, topics, type Bus, type LaunchCommand } from '../src/bus/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createWasmDriver } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { wasmTaskPath } from '../wasm-tasks/fixtures.js';

export interface LoopLag {
  /** Event-loop delay over the window, in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Log lines the agent published in the window. */
  linesPublished: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (ns: number) => Number((ns / 1e6).toFixed(3));

/**
 * Launches `module` on a fresh agent through the bus, waits for its first log line, then
 * measures the event-loop delay for `windowMs`, kills it and stops the agent (each step capped,
 * so a flood the agent cannot shed does not hang the benchmark).
 */
async function lagWhileRunning(options: {
  module: string;
  args: string[];
  windowMs: number;
}): Promise<LoopLag> {
  const logger = silentLogger();
  const memoryBus = createMemoryBus({ logger });
  const taskId = `bench-flood-${options.module}-${Date.now()}`;
  // The agent's id is known only once it starts: its log stream is found by its suffix.
  const logsSuffix = topics.logs('', taskId).slice('agent:'.length);
  // The agent's bus, counting its log publishes (the stream itself is trimmed to maxLogLines).
  let linesPublished = 0;
  const bus: Bus = {
    publish: (stream, message, publishOptions) => {
      if (stream.endsWith(logsSuffix)) linesPublished++;
      return memoryBus.publish(stream, message, publishOptions);
    },
    consume: (consumeOptions) => memoryBus.consume(consumeOptions),
    consumeMany: (consumeOptions) => memoryBus.consumeMany(consumeOptions),
    read: (stream, readOptions) => memoryBus.read(stream, readOptions),
    tail: (stream, count) => memoryBus.tail(stream, count),
    remove: (stream) => memoryBus.remove(stream),
    close: () => memoryBus.close(),
  };
  const workDir = mkdtempSync(join(tmpdir(), 'pacer-bench-agent-'));
  const agent = await startAgent({
    bus,
    drivers: [createWasmDriver({ logger, poolSize: 2 })],
    hostname: 'bench',
    attributes: {},
    resources: { cpus: 2, memMiB: 1024, diskMiB: 1024, ports: [] },
    workDir,
    clock: systemClock,
    logger,
  });
  // Placed where the agent's fetch would put it: the launch needs no artifact server.
  const sandbox = join(workDir, 'sandboxes', taskId);
  mkdirSync(sandbox, { recursive: true });
  copyFileSync(wasmTaskPath(options.module), join(sandbox, `${options.module}.wasm`));
  const launch: LaunchCommand = {
    type: 'launch',
    taskId,
    spec: {
      kind: 'wasm',
      appId: '/bench/flood',
      appVersion: '1',
      args: [`${options.module}.wasm`, ...options.args],
      env: {},
      // The agent's default maximum (task-limits.ts): a label above it fails the task at start.
      labels: { PACER_WASM_FUEL: String(10n ** 12n), PACER_WASM_TIMEOUT_SECONDS: '60' },
      fetch: [],
      resources: { cpus: 0.1, memMiB: 16, diskMiB: 16 },
      ports: [],
    },
  };
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  try {
    await bus.publish(topics.commands(agent.agentId), launch);
    const deadline = performance.now() + 30_000;
    while ((await bus.tail(topics.logs(agent.agentId, taskId), 1)).length === 0) {
      if (performance.now() > deadline)
        throw new Error(`${options.module} printed nothing in 30 s`);
      await sleep(10);
    }
    const before = linesPublished;
    histogram.enable();
    await sleep(options.windowMs);
    histogram.disable();
    return {
      p50Ms: ms(histogram.percentile(50)),
      p99Ms: ms(histogram.percentile(99)),
      maxMs: ms(histogram.max),
      linesPublished: linesPublished - before,
    };
  } finally {
    await bus.publish(topics.commands(agent.agentId), { type: 'kill', taskId });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      agent.stop(),
      new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
    ]);
    clearTimeout(timer);
    await bus.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A run's lag, or how long it went without an answer (the agent's loop did not come back). */
export type LoopLagResult = LoopLag | { timedOut: true; afterMs: number };

/**
 * One measurement in a child process: a flood that blocks the agent's event loop blocks any
 * timer in it too, so only another process can bound the wait (it kills the child at `capMs`).
 */
function inChild(options: { module: string; args: string[]; windowMs: number; capMs: number }) {
  return new Promise<LoopLagResult>((resolve, reject) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      [options.module, String(options.windowMs), ...options.args],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    const t0 = performance.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), options.capMs);
    child.once('message', (lag: LoopLag) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(lag);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve({ timedOut: true, afterMs: Math.round(performance.now() - t0) });
    });
    child.once('error', reject);
  });
}

/** Lag with a quiet task (baseline) and with a newline flood, on fresh agents in one run. */
export async function agentLogFloodLag(
  windowMs: number,
  capMs = windowMs + 30_000,
): Promise<{ quiet: LoopLagResult; flood: LoopLagResult }> {
  const quiet = await inChild({ module: 'service', args: ['10'], windowMs, capMs });
  const flood = await inChild({ module: 'newline-flood', args: [], windowMs, capMs });
  return { quiet, flood };
}

// The child: `agent-log-flood.ts <module> <windowMs> [args…]` measures once, sends the figures.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [module, windowMs, ...args] = process.argv.slice(2);
  await resumableReady(); // the quiet service runs resident, as on a warm agent
  const lag = await lagWhileRunning({
    module: module ?? 'service',
    args,
    windowMs: Number(windowMs),
  });
  process.send?.(lag);
}
