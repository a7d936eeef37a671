// One `pacer agent` process alone under a burst of warm Wasm launches over real Redis: this
// process plays the master (publishes the launch commands, reads the statuses and acknowledges
// them, serves the artifact), so the figures are the agent's own: CPU per launch (all threads,
// and its event loop alone, from /proc), and when the last STAGING, STARTING and RUNNING came.
// The agent has run the module before (a warm-up task on each of its threads' worth), as in
// scheduler-e2e's warm fleet. LAUNCHES (default 250, one agent's share of the 1,000) and ROUNDS
// (default 3) change the burst; the load average is printed beside the figures.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  createRedisBus,
  topics,
  type AckCommand,
  type LaunchCommand,
  type StatusMessage,
} from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';
import { startPacer, tempDir, waitFor } from '../test/support/cluster.js';
import { REDIS_URL, redisPrefix } from '../test/support/services.js';
import { cpuSeconds, threadCpuSeconds } from './proc-usage.js';
import { median, writeResults } from './results.js';

const LAUNCHES = Number(process.env.LAUNCHES ?? 250);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const bytes = await readFile(path.resolve('wasm-tasks/build/service.wasm'));
const digest = createHash('sha256').update(bytes).digest('hex');
const server = http.createServer((_req, res) => res.end(bytes));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const masterUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const prefix = redisPrefix();
const bus = createRedisBus({ url: REDIS_URL, prefix, logger: silentLogger() });
const workDir = await tempDir('pacer-agent-launch');
const agent = startPacer(
  [
    'agent',
    '--hostname',
    'launch-bench',
    '--resources',
    `cpus:${Math.ceil(LAUNCHES * 0.01) + 4},mem:65536,disk:65536`,
    '--work-dir',
    workDir,
  ],
  { REDIS_URL, PACER_BUS_PREFIX: prefix, PACER_MASTER_URL: masterUrl, LOG_LEVEL: 'warn' },
);
const agentPid = agent.child.pid ?? 0;

/** When each task reached each state (ms since the burst began), as the statuses arrive. */
const seen = new Map<string, Map<string, number>>();
let burstAt = 0;
let agentId = '';
await waitFor(
  'the agent to announce itself',
  async () => {
    agentId = (await readFile(path.join(workDir, 'agent-id'), 'utf8').catch(() => '')).trim();
    return agentId !== '';
  },
  30_000,
);
const statuses = bus.consume<StatusMessage>({
  stream: topics.status(agentId),
  group: 'master',
  consumer: 'bench',
  handleBatch: async (entries) => {
    let upTo = 0;
    for (const { message } of entries) {
      if (message.type !== 'status') continue;
      const states = seen.get(message.taskId) ?? new Map<string, number>();
      if (!states.has(message.state)) states.set(message.state, performance.now() - burstAt);
      seen.set(message.taskId, states);
      upTo = Math.max(upTo, message.seq);
    }
    // As the master does: everything up to here is applied.
    if (upTo > 0) {
      const ack: AckCommand = { type: 'ack', seq: upTo };
      await bus.publish(topics.commands(agentId), ack);
    }
  },
});

const launch = (taskId: string): LaunchCommand => ({
  type: 'launch',
  taskId,
  spec: {
    kind: 'wasm',
    appId: '/bench/launch',
    appVersion: '2026-01-01T00:00:00.000Z',
    cmd: 'service.wasm 5000',
    env: {},
    labels: {},
    fetch: [
      {
        uri: `${masterUrl}/v2/artifacts/sha256:${digest}/service.wasm`,
        extract: true,
        executable: false,
        cache: false,
      },
    ],
    resources: { cpus: 0.01, memMiB: 1, diskMiB: 0 },
    ports: [],
  },
});

const reached = (taskIds: string[], state: string) => () =>
  taskIds.every((id) => seen.get(id)?.has(state));

/** Launches `count` tasks at once; waits until all run, then kills them and waits until gone. */
async function burst(name: string, count: number) {
  const taskIds = Array.from({ length: count }, (_, i) => `${name}-${i}`);
  const cpuBefore = await cpuSeconds(agentPid);
  const mainBefore = (await threadCpuSeconds(agentPid)).main;
  burstAt = performance.now();
  await Promise.all(taskIds.map((id) => bus.publish(topics.commands(agentId), launch(id))));
  await waitFor(`${count} running`, async () => reached(taskIds, 'TASK_RUNNING')(), 120_000);
  const ms = performance.now() - burstAt;
  const cpu = (await cpuSeconds(agentPid)) - cpuBefore;
  const main = (await threadCpuSeconds(agentPid)).main - mainBefore;
  const last = (state: string) =>
    Math.max(...taskIds.map((id) => seen.get(id)?.get(state) ?? -Infinity));
  const figures = {
    ms,
    cpuMsPerLaunch: (cpu * 1000) / count,
    mainMsPerLaunch: (main * 1000) / count,
    lastStartingMs: last('TASK_STARTING'),
    lastRunningMs: last('TASK_RUNNING'),
  };
  await Promise.all(
    taskIds.map((id) => bus.publish(topics.commands(agentId), { type: 'kill', taskId: id })),
  );
  await waitFor(`${count} killed`, async () => reached(taskIds, 'TASK_KILLED')(), 120_000);
  return figures;
}

const rounds: Awaited<ReturnType<typeof burst>>[] = [];
try {
  // Warm: the module compiled and made resumable, the shared threads started and used.
  await burst('warm-up', os.availableParallelism());
  for (let round = 1; round <= ROUNDS; round++) rounds.push(await burst(`r${round}`, LAUNCHES));
} finally {
  await statuses.stop();
  await agent.stop();
  await bus.close();
  server.close();
}

const pick = (key: keyof (typeof rounds)[number]) => median(rounds.map((r) => r[key]));
console.log(
  `${LAUNCHES} warm Wasm launches on one agent process over Redis, median of ${ROUNDS} (load ${os.loadavg()[0]?.toFixed(2)}):`,
);
for (const [label, value, unit] of [
  ['CPU per launch, all threads', pick('cpuMsPerLaunch'), 'ms'],
  ['CPU per launch, event loop', pick('mainMsPerLaunch'), 'ms'],
  ['last TASK_STARTING seen', pick('lastStartingMs'), 'ms'],
  ['last TASK_RUNNING seen', pick('lastRunningMs'), 'ms'],
] as const)
  console.log(`  ${label.padEnd(32)} ${value.toFixed(2)} ${unit}`);
await writeResults('agent-launch', { launches: LAUNCHES, rounds, loadAverage: os.loadavg()[0] });
