// The invariants checked after each fault, each counted as violations (0 is the only pass):
// - lost writes: an app whose state is neither its last acknowledged write nor a later write
//   whose answer never came;
// - fencing: a write to a fenced table by a master that did not hold the lease in that
//   transaction, or a term held by two masters;
// - convergence: every app's running tasks equal its `instances` once the cluster settles;
// - duplicates: an instance with two running tasks, by the master's tasks and by what agents say
//   they run (their latest offers on the bus);
// - reconciliation: a task an agent runs that the master does not know, or the reverse;
// - events: the event stream answers and delivers an event caused after attaching.
import { Redis } from 'ioredis';
import type { ChaosCluster } from './chaos-cluster.js';
import type { Workload } from './workload.js';
import { waitFor } from '../../support/wait-for.js';

export interface Findings {
  lostWrites: string[];
  fencing: string[];
  convergence: string[];
  duplicates: string[];
  reconciliation: string[];
  events: string[];
}

export function violationCount(findings: Findings): number {
  const lists: (keyof Findings)[] = [
    'lostWrites',
    'fencing',
    'convergence',
    'duplicates',
    'reconciliation',
    'events',
  ];
  return lists.reduce((n, key) => n + findings[key].length, 0);
}

interface Task {
  id: string;
  appId: string;
  state: string;
  host: string;
}

/** `<app>.instance-<uuid>._app.<n>` → the instance part. */
function instanceOf(taskId: string): string {
  return taskId.replace(/\._app\.\d+$/, '');
}

/** Checks fencing in the audit after `sinceId`: each write by its lease's holder, one holder per term. */
export async function checkFencing(cluster: ChaosCluster, sinceId = 0): Promise<string[]> {
  const problems: string[] = [];
  for (const write of await cluster.audit.writes(sinceId)) {
    const master = cluster.masters.find((m) => m.name === write.writer);
    if (!master) continue; // not a master (the test's own connections)
    if (write.holder !== master.url)
      problems.push(
        `${write.op} on ${write.table} by ${master.url} while ${write.holder ?? 'nobody'} held term ${write.term}`,
      );
  }
  const holders = new Map<number, string[]>();
  for (const { term, holder } of await cluster.audit.terms())
    holders.set(term, [...(holders.get(term) ?? []), holder]);
  for (const [term, list] of holders)
    if (list.length > 1) problems.push(`term ${term} held by ${list.join(', ')}`);
  return problems;
}

/** Every app is in a state its writes allow. */
async function checkWrites(cluster: ChaosCluster, workload: Workload): Promise<string[]> {
  const problems: string[] = [];
  for (const slot of workload.slots) {
    const res = await cluster.call('GET', `/v2/apps${slot.id}`);
    if (res.status !== 404 && res.status !== 200)
      throw new Error(`GET ${slot.id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    const actual =
      res.status === 404
        ? { exists: false, instances: 0 }
        : { exists: true, instances: Number(res.body.app.instances) };
    const allowed = workload.allowed(slot);
    const ok = allowed.some(
      (s) => s.exists === actual.exists && (!s.exists || s.instances === actual.instances),
    );
    if (!ok)
      problems.push(
        `${slot.id} is ${JSON.stringify(actual)}; acknowledged ${JSON.stringify(slot.acked)}, maybe ${JSON.stringify(slot.maybe)}`,
      );
  }
  return problems;
}

/** Running task ids each agent reported in its latest offer, by hostname. */
async function agentTasks(cluster: ChaosCluster): Promise<Map<string, string[]>> {
  const redis = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const prefix = cluster.prefix;
    const byHost = new Map<string, string[]>();
    const keys = await redis.keys(`${prefix}agent:*:offers`);
    for (const key of keys) {
      const [entry] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      if (!entry) continue;
      const fields = entry[1];
      const json = fields[fields.indexOf('message') + 1];
      const offer = JSON.parse(json ?? '{}') as {
        hostname: string;
        runningTaskIds: string[];
        sentAt: number;
      };
      // An agent's offer older than a few seconds is from before a restart of Redis or agent.
      if (Date.now() - offer.sentAt > 3_000) continue;
      byHost.set(offer.hostname, offer.runningTaskIds);
    }
    return byHost;
  } finally {
    redis.disconnect();
  }
}

/** The master's tasks and the agents' agree, each instance runs once, counts are exact. */
async function settled(
  cluster: ChaosCluster,
): Promise<Omit<Findings, 'lostWrites' | 'fencing' | 'events'>> {
  const apps = (await cluster.call('GET', '/v2/apps')).body.apps as {
    id: string;
    instances: number;
  }[];
  const tasks = (await cluster.call('GET', '/v2/tasks')).body.tasks as Task[];
  const running = tasks.filter((t) => t.state === 'TASK_RUNNING');
  const convergence: string[] = [];
  for (const app of apps) {
    const n = running.filter((t) => t.appId === app.id).length;
    if (n !== app.instances) {
      const states = tasks.filter((t) => t.appId === app.id).map((t) => t.state);
      convergence.push(`${app.id}: ${n} running of ${app.instances} (tasks: ${states.join(' ')})`);
    }
  }
  const duplicates: string[] = [];
  const seen = new Map<string, string>();
  const byHost = await agentTasks(cluster);
  const onAgents = [...byHost.entries()].flatMap(([host, ids]) => ids.map((id) => ({ host, id })));
  for (const { id, host } of [...running.map((t) => ({ id: t.id, host: t.host })), ...onAgents]) {
    const instance = instanceOf(id);
    const other = seen.get(instance);
    if (other !== undefined && other !== id)
      duplicates.push(`${instance}: ${other} and ${id} (${host})`);
    seen.set(instance, id);
  }
  const reconciliation: string[] = [];
  const known = new Set(running.map((t) => t.id));
  const reported = new Set(onAgents.map((t) => t.id));
  for (const t of onAgents)
    if (!known.has(t.id)) reconciliation.push(`${t.host} runs ${t.id}, unknown to the master`);
  for (const t of running)
    if (byHost.has(t.host) && !reported.has(t.id))
      reconciliation.push(`the master thinks ${t.host} runs ${t.id}; it does not`);
  return { convergence, duplicates, reconciliation };
}

/** The event stream of some live master delivers an event we cause after attaching. */
async function checkEvents(cluster: ChaosCluster, marker: string): Promise<string[]> {
  const master = cluster.masters.find((m) => !m.isPaused && m.proc.child.exitCode === null);
  if (!master) return ['no live master to follow events on'];
  const controller = new AbortController();
  try {
    const stream = await fetch(`${master.url}/v2/events`, {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (!stream.ok || !stream.body) return [`GET /v2/events answered ${stream.status}`];
    const reader = stream.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const seen = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += decoder.decode(value);
        if (text.includes(marker)) return true;
      }
    })().catch(() => false);
    await waitFor('the marker app to be created', async () => {
      const res = await cluster.call('PUT', `/v2/apps${marker}?force=true`, {
        id: marker,
        instances: 0,
        cmd: 'marker.wasm',
      });
      return res.status < 300;
    });
    const got = await Promise.race([
      seen,
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    return got ? [] : [`no event about ${marker} on ${master.url}'s stream within 10 s`];
  } catch (error) {
    return [`event stream: ${(error as Error).message}`];
  } finally {
    controller.abort();
  }
}

/**
 * Checks every invariant after a fault; the workload must be stopped. Convergence is awaited
 * (up to `settleMs`); what still fails then is reported.
 */
export async function checkInvariants(options: {
  cluster: ChaosCluster;
  workload: Workload;
  marker: string;
  settleMs?: number;
}): Promise<Findings & { settleMs: number }> {
  const { cluster, workload } = options;
  const started = performance.now();
  const lostWrites = await waitFor('a leader to read apps from', () =>
    checkWrites(cluster, workload),
  );
  let last: Omit<Findings, 'lostWrites' | 'fencing' | 'events'> = {
    convergence: [],
    duplicates: [],
    reconciliation: [],
  };
  await waitFor(
    'the cluster to settle',
    async () => {
      last = await settled(cluster);
      return violationCount({ ...last, lostWrites: [], fencing: [], events: [] }) === 0;
    },
    { timeoutMs: options.settleMs ?? 60_000, maxIntervalMs: 500 },
  ).catch(() => undefined); // what is still wrong is in `last`
  const settleMs = Math.round(performance.now() - started);
  const events = await checkEvents(cluster, options.marker);
  const fencing = await checkFencing(cluster);
  return { lostWrites, fencing, events, ...last, settleMs };
}
