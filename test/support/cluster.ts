// Starts real `pacer` processes (master, agents, dev) for end-to-end tests and talks to them over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, REDIS_URL, redisPrefix } from './services.js';
import { waitFor } from './wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/pacer.js');
/** The `pacer` command as operators run it: a shell launcher that execs node (bin/pacer). */
const LAUNCHER = path.join(ROOT, 'bin/pacer');
const STOP_TIMEOUT_MS = 10_000;

/** Every process started here; killed when the test process exits, however it exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface PacerProcess {
  child: ChildProcess;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL with `hard`). */
  stop(options?: { hard?: boolean }): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/**
 * The next block of 100 host ports for this test file's agents (or `pacer dev`'s agent). Tasks
 * bind their ports on the host, and vitest runs files side by side: two files offering the same
 * ports fail each other's launches (EADDRINUSE). Each worker of the pool (VITEST_POOL_ID) has
 * 1,000 ports of its own, handed out 100 at a time, and a worker runs one file at a time. The
 * ports lie above the service ports (10000-20000) and below the ephemeral range (32768+), where
 * outbound connections take their local ports.
 */
export function portBlock(): string {
  const pool = (Number(process.env.VITEST_POOL_ID ?? 1) - 1) % 10;
  // Two suites on one machine (parallel worktrees) each set a base of their own.
  const base = Number(process.env.PACER_TEST_PORT_BASE ?? 20_100);
  const start = base + pool * 1_000 + (blocksTaken++ % 10) * 100;
  return `${start}-${start + 99}`;
}
let blocksTaken = 0;

/**
 * Port ranges for agents that share this machine, one block (portBlock) per hostname, the same
 * again when an agent restarts.
 */
export function agentPortRanges(): (hostname: string) => string {
  const ranges = new Map<string, string>();
  return (hostname) => {
    let range = ranges.get(hostname);
    if (!range) ranges.set(hostname, (range = portBlock()));
    return range;
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/**
 * Extra Node flags for every process started here, from `PACER_NODE_ARGS` (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a benchmark's master and agents.
 */
const NODE_ARGS = (process.env.PACER_NODE_ARGS ?? '').split(' ').filter(Boolean);

export function startPacer(
  args: string[],
  env: Record<string, string>,
  options: {
    /**
     * Through bin/pacer, as operators start it (the agent then gets its V8 flags), with this
     * process's node first on PATH; PACER_NODE_ARGS does not apply.
     */
    viaLauncher?: boolean;
  } = {},
): PacerProcess {
  // `pacer dev`'s agent offers this file's own ports unless the test gives resources itself.
  const ports =
    args[0] === 'dev' && !args.includes('--resources') && env.PACER_RESOURCES === undefined
      ? { PACER_RESOURCES: `ports:[${portBlock()}]` }
      : {};
  const launcherPath = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  const child = spawn(
    options.viaLauncher ? LAUNCHER : process.execPath,
    options.viaLauncher ? args : [...NODE_ARGS, BIN, ...args],
    {
      env: {
        ...process.env,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
        ...ports,
        ...env,
        ...(options.viaLauncher ? { PATH: launcherPath } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  return {
    child,
    output: () => output,
    async stop(options) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(options?.hard ? 'SIGKILL' : 'SIGTERM');
      // A process that does not stop in time is killed: tests must never leave orphans behind.
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

export { waitFor } from './wait-for.js';

/** The fields of a `status_update_event` the tests read. */
export interface StatusEvent {
  appId: string;
  taskId: string;
  taskStatus: string;
  message: string;
  /** Other event types' fields (`followStatusEvents(url, 'agent_drained_event')`). */
  [field: string]: unknown;
}

/**
 * Follows the `status_update_event`s (or the events of `eventType`) of the API at `baseUrl` from
 * the moment it resolves (the stream is attached); `events` grows as they come. `until` waits
 * (waitFor) until `done` holds and ends the stream. Task ids of tasks that end at once are known
 * only from here: a relaunched instance waits hidden (Scheduled) in its backoff.
 */
export async function followStatusEvents(baseUrl: string, eventType = 'status_update_event') {
  const controller = new AbortController();
  const stream = await fetch(`${baseUrl}/v2/events?event_type=${eventType}`, {
    headers: { accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: StatusEvent[] = [];
  let rest = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const lines = (rest + decoder.decode(value)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines)
        if (line.startsWith('data:')) events.push(JSON.parse(line.slice(5)) as StatusEvent);
    }
  })().catch(() => undefined); // ends with stop()
  const stop = () => controller.abort();
  return {
    events,
    stop,
    async until(done: (events: StatusEvent[]) => boolean): Promise<StatusEvent[]> {
      try {
        await waitFor('the status events awaited', () => done(events));
        return events;
      } finally {
        stop();
      }
    },
  };
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny HTTP client for the API under test. */
export function apiClient(baseUrl: string) {
  async function call<T = any>(
    method: string,
    pathname: string,
    body?: unknown,
    headers: Record<string, string> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<JsonResponse<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (options.timeoutMs !== undefined) init.signal = AbortSignal.timeout(options.timeoutMs);
    if (body instanceof Uint8Array) {
      init.body = body;
    } else if (typeof body === 'string') {
      init.body = body;
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(baseUrl + pathname, init);
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text)
      parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T };
  }
  return {
    url: baseUrl,
    get: <T = any>(p: string) => call<T>('GET', p),
    post: <T = any>(p: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', p, body, headers),
    put: <T = any>(p: string, body?: unknown) => call<T>('PUT', p, body),
    delete: <T = any>(p: string) => call<T>('DELETE', p),
    call,
  };
}

/** Waits until the HTTP API answers /ping. */
export async function waitForApi(baseUrl: string, proc?: PacerProcess): Promise<void> {
  await waitFor(
    `the API at ${baseUrl}`,
    async () => {
      if (proc && proc.child.exitCode !== null)
        throw new Error(`pacer exited early:\n${proc.output()}`);
      return (await fetch(`${baseUrl}/ping`)).ok;
    },
    // Generous: it only bounds a failing start; pacer dev takes 5-20 s on a loaded 2-core machine.
    90_000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${proc?.output().slice(-6000) ?? ''}`);
  });
}

/**
 * `pacer dev` on a free loopback port with a fresh data directory (named after `prefix`),
 * once its API answers; stop it with `dev.stop()`.
 */
export async function startDev(
  prefix: string,
  env: Record<string, string> = { LOG_LEVEL: 'warn' },
): Promise<{ dev: PacerProcess; api: ReturnType<typeof apiClient> }> {
  const port = await freePort();
  const api = apiClient(`http://127.0.0.1:${port}`);
  const dataDir = await tempDir(prefix);
  const dev = startPacer(
    ['dev', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
    env,
  );
  await waitForApi(api.url, dev);
  return { dev, api };
}

/** What a master and its agents need to run against this machine's Postgres and Redis. */
export interface ClusterSetup {
  /** A fresh database; drop it when done. */
  db: { url: string; drop: () => Promise<void> };
  port: number;
  api: ReturnType<typeof apiClient>;
  /** Environment for `pacer master` and `pacer agent`: database, Redis, key prefix, URLs. */
  env: Record<string, string>;
}

/** A fresh database, a free port and a fresh bus prefix, with `extraEnv` on top. */
export async function prepareCluster(extraEnv: Record<string, string> = {}): Promise<ClusterSetup> {
  const db = await createTestDatabase();
  const port = await freePort();
  const api = apiClient(`http://127.0.0.1:${port}`);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    PACER_BUS_PREFIX: redisPrefix(),
    PACER_MASTER_URL: api.url,
    PACER_PUBLIC_URL: api.url,
    ...extraEnv,
  };
  return { db, port, api, env };
}
