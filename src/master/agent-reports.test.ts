// The master's reader of agents' streams, on the in-process bus: what an agent says about itself
// and its tasks reaches the handlers; anything else is dropped and counted by reason.
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, HealthMessage, OfferMessage, StatusMessage } from '../bus/index.js';
import { createMemoryBus, topics } from '../bus/index.js';
import type { Instance } from '../domain/index.js';
import { silentLogger } from '../lib/index.js';
import { createAgentReports, type AgentReports } from './agent-reports.js';
import { createAgentTrust, type AgentTrust } from './agent-trust.js';

const offer = (agentId: string): OfferMessage => ({
  type: 'offer',
  agentId,
  hostname: agentId,
  attributes: {},
  capabilities: ['wasm'],
  total: { cpus: 1, memMiB: 64, diskMiB: 64, ports: [] },
  free: { cpus: 1, memMiB: 64, diskMiB: 64, ports: [] },
  runningTaskIds: [],
  sentAt: 1,
  startedAt: 1,
});
const status = (agentId: string, taskId: string): StatusMessage => ({
  type: 'status',
  agentId,
  taskId,
  state: 'TASK_FAILED',
  seq: 1,
  at: 1,
});

describe('agent reports', () => {
  let bus: Bus;
  let reports: AgentReports;
  let trust: AgentTrust;
  const offers: OfferMessage[] = [];
  const statuses: StatusMessage[] = [];
  const health: HealthMessage[] = [];
  const snapshots: [string, NonNullable<OfferMessage['metrics']>][] = [];
  const fuel: [string, NonNullable<OfferMessage['taskFuel']>][] = [];
  /** Commands the reader sent agents: acknowledgements and requests to resend. */
  const sent: string[] = [];
  /** Task t-a runs on agent-a, t-b on agent-b. */
  const placed = new Map([
    ['t-a', 'agent-a'],
    ['t-b', 'agent-b'],
  ]);

  /** A master's reader; `onSameBus` starts another master's on the bus the last one used. */
  function start(options: { isIdentityRequired: boolean; revoked?: string[]; onSameBus?: true }) {
    if (!options.onSameBus) bus = createMemoryBus({ logger: silentLogger() });
    trust = createAgentTrust({ logger: silentLogger() });
    offers.length = 0;
    statuses.length = 0;
    health.length = 0;
    snapshots.length = 0;
    fuel.length = 0;
    sent.length = 0;
    reports = createAgentReports({
      bus,
      masterId: options.onSameBus ? 'm-next' : 'm',
      isIdentityRequired: options.isIdentityRequired,
      isRevoked: (agentId) => options.revoked?.includes(agentId) ?? false,
      tracker: {
        byTaskId: (taskId) =>
          placed.has(taskId) ? ({ agentId: placed.get(taskId) } as Instance) : undefined,
      },
      statuses: { handleMany: async (messages) => void statuses.push(...messages) },
      health: { handle: async (message) => void health.push(message) },
      liveness: { onOffer: async (message) => void offers.push(message) },
      trust,
      commands: {
        ack: async (agentId, seq) => void sent.push(`${agentId} ack ${seq}`),
        resend: async (agentId) => void sent.push(`${agentId} resend`),
      },
      logger: silentLogger(),
      onMetrics: (agentId, snapshot) => void snapshots.push([agentId, snapshot]),
      onTaskFuel: (agentId, entries) => void fuel.push([agentId, entries]),
    });
    reports.start();
  }

  afterEach(async () => {
    await reports.stop();
    await bus.close();
  });

  it('passes what an agent says of itself and its own or unknown tasks, in stream order', async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    await bus.publish(topics.offers('agent-a'), offer('agent-a'));
    await bus.publish(topics.status('agent-a'), status('agent-a', 't-a'));
    await bus.publish(topics.status('agent-a'), {
      type: 'health',
      agentId: 'agent-a',
      taskId: 't-a',
      check: 0,
      alive: true,
      at: 1,
    });
    await bus.publish(topics.status('agent-a'), status('agent-a', 't-unknown'));
    await expect.poll(() => statuses.length).toBe(2);
    expect(offers.map((o) => o.agentId)).toEqual(['agent-a']);
    expect(statuses.map((s) => s.taskId)).toEqual(['t-a', 't-unknown']);
    expect(health).toHaveLength(1);
  });

  it("applies an outbox's updates in order and once, acknowledges them, and asks again for a gap", async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    const update = (seq: number, prev: number, acked = 0): StatusMessage => ({
      ...status('agent-a', `t-${seq}`),
      seq,
      prev,
      acked,
    });
    // 11 and 12 in order; 12 again (a replay: skipped); 14 before its predecessor 13 (a gap).
    for (const message of [update(11, 0), update(12, 11), update(12, 11), update(14, 13)])
      await bus.publish(topics.status('agent-a'), message);
    await expect.poll(() => sent).toContain('agent-a resend');
    expect(statuses.map((s) => s.seq)).toEqual([11, 12]);
    expect(sent).toContain('agent-a ack 12');
    // The replay of the outbox: 13 and 14 now come after 12, and take effect.
    for (const message of [update(13, 12, 12), update(14, 13, 12)])
      await bus.publish(topics.status('agent-a'), message);
    await expect.poll(() => statuses.map((s) => s.seq)).toEqual([11, 12, 13, 14]);
    await expect.poll(() => sent).toContain('agent-a ack 14');
  });

  it('takes only the newest of the offers read together: each is the whole of its state', async () => {
    start({ isIdentityRequired: true });
    // 100 offers waiting (a master behind): one liveness pass, not 100 (a store write or more each).
    for (let n = 1; n <= 100; n++)
      await bus.publish(topics.offers('agent-a'), { ...offer('agent-a'), sentAt: n });
    reports.watch('agent-a');
    await expect.poll(() => offers.length).toBe(1);
    expect(offers[0]?.sentAt).toBe(100);
    await bus.publish(topics.offers('agent-a'), { ...offer('agent-a'), sentAt: 101 });
    await expect.poll(() => offers.map((o) => o.sentAt)).toEqual([100, 101]);
  });

  it('asks once per gap, however many reads show it before the replay comes', async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    const update = (seq: number, prev: number): StatusMessage => ({
      ...status('agent-a', `t-${seq}`),
      seq,
      prev,
      acked: 0,
    });
    await bus.publish(topics.status('agent-a'), update(1, 0));
    await expect.poll(() => sent).toEqual(['agent-a ack 1']);
    const resends = () => sent.filter((s) => s.endsWith('resend'));
    // 2 lost: 3 … 12 each show the gap, read one at a time (a master behind the live stream).
    for (let seq = 3; seq <= 12; seq++) {
      const before = sent.length;
      await bus.publish(topics.status('agent-a'), update(seq, seq - 1));
      await expect.poll(() => sent.length).toBeGreaterThan(before);
    }
    expect(resends()).toEqual(['agent-a resend']);
    // The replay: 2 … 12 applied. A later gap (14 before 13) is a new one: asked again.
    for (let seq = 2; seq <= 12; seq++)
      await bus.publish(topics.status('agent-a'), update(seq, seq - 1));
    await bus.publish(topics.status('agent-a'), update(14, 13));
    await expect.poll(() => resends()).toHaveLength(2);
    expect(statuses.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('as a new leader, starts at the head of an outbox and not in its middle', async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    const update = (seq: number, prev: number, acked: number): StatusMessage => ({
      ...status('agent-a', `t-${seq}`),
      seq,
      prev,
      acked,
    });
    // 21 follows 20, which no master acknowledged to the agent (it said 19): perhaps lost.
    await bus.publish(topics.status('agent-a'), update(21, 20, 19));
    await expect.poll(() => sent).toEqual(['agent-a resend']);
    expect(statuses).toEqual([]);
    await bus.publish(topics.status('agent-a'), update(20, 19, 19));
    await bus.publish(topics.status('agent-a'), update(21, 20, 19));
    await expect.poll(() => statuses.map((s) => s.seq)).toEqual([20, 21]);
  });

  it("keeps one agent's outbox numbers from fencing another's, and refuses odd ones", async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    reports.watch('agent-b');
    // agent-b claims a huge number first: only its own later updates could be skipped.
    const huge = { ...status('agent-b', 't-b'), seq: Number.MAX_SAFE_INTEGER, prev: 0, acked: 0 };
    await bus.publish(topics.status('agent-b'), huge);
    await bus.publish(topics.status('agent-a'), {
      ...status('agent-a', 't-a'),
      seq: 5,
      prev: 0,
      acked: 0,
    });
    await expect.poll(() => statuses.map((s) => s.agentId).sort()).toEqual(['agent-a', 'agent-b']);
    expect(sent.sort()).toEqual(['agent-a ack 5', `agent-b ack ${Number.MAX_SAFE_INTEGER}`]);
    // Not whole, not safe, not numbers: refused at the schema, like any malformed update.
    for (const odd of [{ prev: 1.5 }, { prev: 2 ** 60 }, { acked: 'x' }, { seq: 2 ** 60 }])
      await bus.publish(topics.status('agent-a'), { ...status('agent-a', 't-a'), ...odd });
    await bus.publish(topics.offers('agent-a'), { ...offer('agent-a'), endedTaskIds: [7] });
    await bus.publish(topics.offers('agent-a'), {
      ...offer('agent-a'),
      endedTaskIds: Array.from({ length: 100_001 }, (_, i) => `t-${i}`),
    });
    await expect.poll(() => trust.dropped('agent-a', 'invalid')).toBe(6);
    expect(statuses).toHaveLength(2);
    expect(offers).toEqual([]);
  });

  it('drops and counts what names another agent, its task, the wrong stream or no valid shape', async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    await bus.publish(topics.status('agent-a'), status('agent-a', 't-b'));
    await bus.publish(topics.status('agent-a'), status('agent-b', 't-b'));
    await bus.publish(topics.offers('agent-a'), offer('agent-b'));
    await bus.publish(topics.offers('agent-a'), status('agent-a', 't-a'));
    await bus.publish(topics.status('agent-a'), offer('agent-a'));
    await bus.publish(topics.status('agent-a'), { ...status('agent-a', 't-a'), seq: 'one' });
    await bus.publish(topics.offers('agent-a'), { ...offer('agent-a'), runningTaskIds: [1] });
    await expect.poll(() => trust.dropped('agent-a', 'invalid')).toBe(4);
    expect(trust.dropped('agent-a', 'foreign_task')).toBe(1);
    expect(trust.dropped('agent-a', 'foreign_agent')).toBe(2);
    expect([offers, statuses, health]).toEqual([[], [], []]);
  });

  it("takes an agent's metric snapshot for itself only, and refuses unbounded or odd ones", async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    const metrics = {
      tasks: [{ kind: 'wasm', state: 'TASK_RUNNING', count: 2 }],
      fuelUsed: 10,
      memoryBytes: 1e8,
      cpuSeconds: 1.5,
      logBytesDropped: 0,
      fetchCacheBytes: 4096,
      handlerRequests: {
        requests: 3,
        serverErrors: 1,
        fuelSum: 3e6,
        fuelBuckets: [0, 0, 3, 3, 3, 3],
      },
    } as const;
    const row = (state: string) => ({ kind: 'wasm', state, count: 1 });
    const handler = metrics.handlerRequests;
    // Another agent's name: dropped, never counted as agent-b's metrics.
    await bus.publish(topics.offers('agent-a'), { ...offer('agent-b'), metrics });
    for (const bad of [
      { ...metrics, memoryBytes: -1 },
      { ...metrics, cpuSeconds: 1e300 },
      { ...metrics, tasks: [row('TASK_RUNNING'), row('TASK_RUNNING')] },
      { ...metrics, tasks: [{ kind: 'wasm<img>', state: 'TASK_RUNNING', count: 1 }] },
      { ...metrics, tasks: Array.from({ length: 1000 }, () => row('TASK_RUNNING')) },
      { ...metrics, fuelUsed: '10' },
      // Handler figures: the bucket count fixed (no series an agent invents), finite, no extras.
      { ...metrics, handlerRequests: { ...handler, fuelBuckets: Array(1000).fill(0) } },
      { ...metrics, handlerRequests: { ...handler, fuelBuckets: [0, 0, 3, 3, 3] } },
      { ...metrics, handlerRequests: { ...handler, requests: -1 } },
      { ...metrics, handlerRequests: { ...handler, fuelSum: Number.NaN } },
      { ...metrics, handlerRequests: { ...handler, le: '<script>' } },
    ])
      await bus.publish(topics.offers('agent-a'), { ...offer('agent-a'), metrics: bad });
    await bus.publish(topics.offers('agent-a'), { ...offer('agent-a'), metrics });
    await expect.poll(() => snapshots.length).toBe(1);
    expect(snapshots).toEqual([['agent-a', metrics]]);
    expect(trust.dropped('agent-a', 'foreign_agent')).toBe(1);
    expect(trust.dropped('agent-a', 'invalid')).toBe(11);
  });

  it("believes a running task's fuel only of the agent's own tasks, as a whole safe number", async () => {
    start({ isIdentityRequired: true });
    reports.watch('agent-a');
    const own = { taskId: 't-a', fuelUsed: 1_234 };
    for (const bad of [
      -1,
      1.5,
      Number.MAX_SAFE_INTEGER + 2,
      1e300,
      '5',
      null, // NaN and Infinity travel as null in JSON
    ])
      await bus.publish(topics.offers('agent-a'), {
        ...offer('agent-a'),
        taskFuel: [{ taskId: 't-a', fuelUsed: bad }],
      });
    await bus.publish(topics.offers('agent-a'), {
      ...offer('agent-a'),
      taskFuel: [own, own],
    });
    await bus.publish(topics.offers('agent-a'), {
      ...offer('agent-a'),
      taskFuel: Array.from({ length: 100_001 }, (_, n) => ({ taskId: `t-${n}`, fuelUsed: 1 })),
    });
    // Another agent's task, and one the master does not know: dropped, only the first counted;
    // a field of its own on an entry is dropped too.
    await bus.publish(topics.offers('agent-a'), {
      ...offer('agent-a'),
      taskFuel: [
        { ...own, label: '<script>' },
        { taskId: 't-b', fuelUsed: 9 },
        { taskId: 't-gone', fuelUsed: 9 },
      ],
    });
    // An ended task's fuel in its status: the same rules.
    for (const bad of [-1, 2.5, 1e300])
      await bus.publish(topics.status('agent-a'), { ...status('agent-a', 't-a'), fuelUsed: bad });
    await bus.publish(topics.status('agent-a'), { ...status('agent-a', 't-a'), fuelUsed: 7 });
    await expect.poll(() => fuel.length).toBe(1);
    await expect.poll(() => statuses.length).toBe(1);
    expect(statuses[0]?.fuelUsed).toBe(7);
    expect(fuel).toEqual([['agent-a', [own]]]);
    expect(trust.dropped('agent-a', 'invalid')).toBe(11);
    expect(trust.dropped('agent-a', 'foreign_task')).toBe(1);
    expect(offers).toHaveLength(1);
  });

  it('reads nothing of an agent unwatched or revoked', async () => {
    start({ isIdentityRequired: true, revoked: ['agent-r'] });
    reports.watch('agent-r');
    reports.watch('agent-a');
    reports.unwatch('agent-a');
    reports.watch('agent-c');
    await bus.publish(topics.offers('agent-r'), offer('agent-r'));
    await bus.publish(topics.offers('agent-a'), offer('agent-a'));
    await bus.publish(topics.offers('agent-c'), offer('agent-c'));
    await expect.poll(() => offers.length).toBe(1);
    expect(offers[0]?.agentId).toBe('agent-c');
    expect(reports.watched()).toEqual(['agent-c']);
  });

  it('hears announced agents only when identity is not required', async () => {
    start({ isIdentityRequired: false });
    await bus.publish(topics.announce, { type: 'hello', agentId: 'agent-x' });
    await bus.publish(topics.announce, { type: 'hello', agentId: 'agent-*' });
    await expect.poll(() => reports.watched()).toEqual(['agent-x']);
    await expect.poll(() => trust.dropped(topics.announce, 'invalid')).toBe(1);
    await reports.stop();
    await bus.close();

    start({ isIdentityRequired: true });
    await bus.publish(topics.announce, { type: 'hello', agentId: 'agent-y' });
    // Published before this status: an announcement reader (in process, woken by the same
    // publish order) would have read it by the time the status is handled.
    reports.watch('agent-a');
    await bus.publish(topics.status('agent-a'), status('agent-a', 't-a'));
    await expect.poll(() => statuses.length).toBe(1);
    expect(reports.watched()).toEqual(['agent-a']);
  });

  it('watches the agents announced before it leads, though another master read them', async () => {
    start({ isIdentityRequired: false });
    await bus.publish(topics.announce, { type: 'hello', agentId: 'agent-x' });
    await bus.publish(topics.announce, { type: 'hello', agentId: 'agent-*' });
    await expect.poll(() => reports.watched()).toEqual(['agent-x']);
    // That master lost its lease before agent-x's first offer was stored: the group has
    // acknowledged the announcement, and the next master has only what it reads back.
    await reports.stop();

    start({ isIdentityRequired: false, onSameBus: true });
    await expect.poll(() => reports.watched()).toEqual(['agent-x']);
    await bus.publish(topics.offers('agent-x'), offer('agent-x'));
    await expect.poll(() => offers.map((message) => message.agentId)).toEqual(['agent-x']);
  });
});
