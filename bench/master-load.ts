// Master load with 1,000 simulated agents heartbeating every second over Redis: the master's
// CPU share of one core and its memory (targets ≤ 25 % and ≤ 300 MiB). Baseline in the same
// run: the same master with no agents at all.
import { randomUUID } from 'node:crypto';
import { createRedisBus, topics, type OfferMessage } from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';
import { apiClient, freePort, startPacer, waitFor, waitForApi } from '../test/support/cluster.js';
import { createTestDatabase, REDIS_URL, redisPrefix } from '../test/support/services.js';
import { sample } from './proc-usage.js';
import { writeResults } from './results.js';

const AGENTS = Number(process.env.AGENTS ?? 1000);
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 20_000);

const db = await createTestDatabase();
const prefix = redisPrefix();
const port = await freePort();
const api = apiClient(`http://127.0.0.1:${port}`);
const master = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], {
  DATABASE_URL: db.url,
  REDIS_URL,
  PACER_BUS_PREFIX: prefix,
  PACER_PUBLIC_URL: api.url,
  LOG_LEVEL: 'warn',
  PACER_AGENT_TIMEOUT_MS: '5000',
});
const bus = createRedisBus({ url: REDIS_URL, prefix, logger: silentLogger() });
try {
  await waitForApi(api.url, master);
  const pid = master.child.pid as number;
  const idle = await sample(pid, WINDOW_MS / 2);

  const startedAt = Date.now();
  const agents = Array.from({ length: AGENTS }, (_, n) => ({
    agentId: `sim-${n}-${randomUUID()}`,
    n,
  }));
  const offer = (agent: { agentId: string; n: number }): OfferMessage => ({
    type: 'offer',
    agentId: agent.agentId,
    hostname: `sim-${agent.n}`,
    attributes: { zone: `z${agent.n % 4}`, rack: `r${agent.n % 40}` },
    capabilities: ['wasm'],
    total: { cpus: 2, memMiB: 1024, diskMiB: 4096, ports: [[31000, 32000]] },
    free: { cpus: 2, memMiB: 1024, diskMiB: 4096, ports: [[31000, 32000]] },
    runningTaskIds: [],
    sentAt: Date.now(),
    startedAt,
  });
  // Agents without an identity of their own announce themselves first (agent-reports.ts).
  for (const a of agents)
    await bus.publish(topics.announce, { type: 'hello', agentId: a.agentId }, { maxLen: 100_000 });
  // Each simulated agent offers once a second, spread evenly over the second.
  let stopped = false;
  const heartbeats = (async () => {
    while (!stopped) {
      const round = performance.now();
      for (let i = 0; i < agents.length && !stopped; i += 50) {
        await Promise.all(
          agents
            .slice(i, i + 50)
            .map((a) => bus.publish(topics.offers(a.agentId), offer(a), { maxLen: 100 })),
        );
        const due = round + ((i + 50) / agents.length) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  })();
  await waitFor(
    `${AGENTS} agents registered`,
    async () => ((await api.get('/v2/agents')).body.agents as unknown[]).length === AGENTS,
    60_000,
  );
  const loaded = await sample(pid, WINDOW_MS);
  stopped = true;
  await heartbeats;

  const results = {
    agents: AGENTS,
    windowMs: WINDOW_MS,
    baselineIdle: idle,
    loaded,
    targets: { cpuShare: 0.25, rssMiB: 300 },
    ratioCpuToTarget: loaded.cpuShare / 0.25,
    ratioRssToTarget: loaded.peakRssMiB / 300,
  };
  console.log(`master load, ${AGENTS} simulated agents offering every second:`);
  console.log(
    `  idle baseline:  ${(idle.cpuShare * 100).toFixed(1)} % of a core, ${idle.peakRssMiB.toFixed(0)} MiB`,
  );
  console.log(
    `  with agents:    ${(loaded.cpuShare * 100).toFixed(1)} % of a core (target ≤ 25 %, ×${results.ratioCpuToTarget.toFixed(2)}), ${loaded.peakRssMiB.toFixed(0)} MiB (target ≤ 300, ×${results.ratioRssToTarget.toFixed(2)})`,
  );
  await writeResults('master-load', results);
} finally {
  await bus.close();
  await master.stop();
  await db.drop();
}
