// `pacer agent` footprint (issue 14: an idle agent ≤ 60 MiB in total, all its processes): its
// start time (spawn → its first offer seen by the master), its memory idle, and its memory with
// 100 sleeping Wasm tasks. Memory is summed over the agent and its child processes (the binaryen
// helper), as RSS and as PSS (shared pages split between the processes that map them). The agent
// starts as operators start it, through bin/pacer (its V8 flags). Baselines in the same run: the
// agent started by plain `node bin/pacer.js agent` (without those flags), and the agent that
// starts binaryen's helper and its workers at once (PACER_WASM_PREWARM=1, the old default). The
// machine's load average is recorded beside the figures.
import { readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  apiClient,
  prepareCluster,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
} from '../test/support/cluster.js';
import { writeResults } from './results.js';

const TASKS = Number(process.env.BENCH_AGENT_TASKS ?? 100);
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

/** The pid and every descendant's pid. */
async function family(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[1]) parents.set(Number(entry), Number(fields[1]));
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++)
    for (const [child, parent] of parents) if (parent === all[i]) all.push(child);
  return all;
}

/** RSS and PSS in MiB summed over `pid` and its descendants, and how many processes. */
async function memory(pid: number): Promise<{ rssMiB: number; pssMiB: number; processes: number }> {
  let rssKb = 0;
  let pssKb = 0;
  const pids = await family(pid);
  for (const p of pids) {
    const rollup = await readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => '');
    rssKb += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    pssKb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10;
  return { rssMiB: mib(rssKb), pssMiB: mib(pssKb), processes: pids.length };
}

/** The highest total over a few samples (memory settles after start; take its top). */
async function peakMemory(pid: number, samples = 8) {
  let peak = await memory(pid);
  for (let i = 1; i < samples; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250)); // sampling interval
    const now = await memory(pid);
    if (now.rssMiB > peak.rssMiB) peak = now;
  }
  return peak;
}

async function measure({ prewarm, viaLauncher }: { prewarm: boolean; viaLauncher: boolean }) {
  const setup = await prepareCluster({ PACER_OFFER_INTERVAL_MS: '500', LOG_LEVEL: 'warn' });
  const master = startPacer(
    ['master', '--port', String(setup.port), '--host', '127.0.0.1'],
    setup.env,
  );
  let agent: PacerProcess | undefined;
  try {
    await waitForApi(setup.api.url, master);
    const api = apiClient(setup.api.url);
    const spawnedAt = performance.now();
    agent = startPacer(
      [
        'agent',
        '--hostname',
        'bench-agent',
        '--resources',
        `cpus:${TASKS},mem:${TASKS * 64},disk:4096,ports:[31000-31100]`,
        '--work-dir',
        await tempDir('pacer-bench-agent'),
        '--wasm-timeout-seconds',
        '3600',
      ],
      { ...setup.env, PACER_WASM_PREWARM: prewarm ? '1' : '0' },
      { viaLauncher },
    );
    await waitFor('the agent to offer', async () => {
      const res = await api.get('/v2/agents');
      return res.status === 200 && res.body.agents.length === 1;
    });
    const startMs = Math.round(performance.now() - spawnedAt);
    // Idle: whatever it starts at once has started by now (the helper loads in ~2 s).
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // settling time, not a wait for a condition
    const idle = await peakMemory(agent.child.pid as number);

    const bytes = await readFile(SERVICE_WASM);
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    const launchedAt = performance.now();
    await api.post('/v2/apps', {
      id: '/bench/sleepers',
      instances: TASKS,
      cpus: 0.5,
      mem: 16,
      fetch: [{ uri: `${upload.body.uri}/service.wasm` }],
      cmd: 'service.wasm 60000',
      labels: { PACER_WASM_TIMEOUT_SECONDS: '3600' },
    });
    await waitFor(
      `${TASKS} running tasks`,
      async () => {
        const tasks = (await api.get('/v2/apps/bench/sleepers/tasks')).body.tasks as {
          state: string;
        }[];
        return tasks.filter((t) => t.state === 'TASK_RUNNING').length === TASKS;
      },
      { timeoutMs: 120_000, maxIntervalMs: 250 },
    );
    const allRunningMs = Math.round(performance.now() - launchedAt);
    const withTasks = await peakMemory(agent.child.pid as number);
    return { startMs, idle, withTasks, allRunningMs, loadAverage: os.loadavg()[0] ?? 0 };
  } finally {
    await agent?.stop();
    await master.stop();
    await setup.db.drop();
  }
}

const eager = await measure({ prewarm: true, viaLauncher: true });
const withoutFlags = await measure({ prewarm: false, viaLauncher: false });
const lazy = await measure({ prewarm: false, viaLauncher: true });
const results = {
  tasks: TASKS,
  lazy,
  withoutFlagsBaseline: withoutFlags,
  eagerBaseline: eager,
  idleRatioToEager: Math.round((lazy.idle.pssMiB / eager.idle.pssMiB) * 100) / 100,
  idleRatioToWithoutFlags: Math.round((lazy.idle.rssMiB / withoutFlags.idle.rssMiB) * 100) / 100,
  target: { idleAtMost60MiB: lazy.idle.rssMiB <= 60, measuredAs: 'RSS summed over processes' },
};
console.log(JSON.stringify(results, null, 2));
console.log(
  `idle agent: ${lazy.idle.rssMiB} MiB RSS / ${lazy.idle.pssMiB} MiB PSS in ${lazy.idle.processes} process(es) ` +
    `(without bin/pacer's flags: ${withoutFlags.idle.rssMiB} / ${withoutFlags.idle.pssMiB}; ` +
    `eager: ${eager.idle.rssMiB} / ${eager.idle.pssMiB} in ${eager.idle.processes}), ` +
    `${TASKS} sleeping tasks: ${lazy.withTasks.rssMiB} MiB RSS (without flags ${withoutFlags.withTasks.rssMiB}), ` +
    `all running in ${lazy.allRunningMs} ms (without flags ${withoutFlags.allRunningMs}), ` +
    `start ${lazy.startMs} ms (without flags ${withoutFlags.startMs}), load ${lazy.loadAverage.toFixed(2)}`,
);
await writeResults('agent', results);
