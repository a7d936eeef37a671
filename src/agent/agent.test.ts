// The agent with the mock driver over the in-memory bus: the statuses a task goes through, kills,
// start errors, reconciliation, offers, and commands it must drop without harm to its tasks.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait-for.js';
import type {
  Bus,
  OfferMessage,
  StatusMessage,
  Subscription,
  TaskLaunchSpec,
} from '../bus/index.js';
import { createMemoryBus, topics } from '../bus/index.js';
import type { Resources } from '../domain/index.js';
import { silentLogger, systemClock } from '../lib/index.js';
import { createMockDriver, MockLabels, type MockDriver } from '../runtime/mock/index.js';
import { startAgent, type RunningAgent } from './agent.js';
import { TAKEN_PORT_HOLD_MS } from './taken-ports.js';

const AGENT_ID = 'agent-under-test';
const TOTAL: Resources = { cpus: 1, memMiB: 256, diskMiB: 100, ports: [[31000, 31010]] };

function launchSpec(options: Partial<TaskLaunchSpec> = {}): TaskLaunchSpec {
  return {
    kind: 'wasm',
    appId: '/app',
    appVersion: '2026-01-01T00:00:00.000Z',
    env: {},
    labels: {},
    fetch: [],
    resources: { cpus: 0.25, memMiB: 64, diskMiB: 10 },
    ports: [],
    ...options,
  };
}

let bus: Bus;
let driver: MockDriver;
let agent: RunningAgent;
let workDir: string;
let statusSub: Subscription;
/** Added to the agent's clock: a test moves its time forward. */
let clockOffsetMs: number;
const clock = { now: () => Date.now() + clockOffsetMs };
/** Every status message the agent sent, in the order it sent them. */
let statuses: StatusMessage[];

/** The states reported for one task, in order. */
const statesOf = (taskId: string) =>
  statuses.filter((s) => s.taskId === taskId && s.type === 'status').map((s) => s.state);
const lastStatusOf = (taskId: string) => statuses.filter((s) => s.taskId === taskId).at(-1);

const command = (message: object) => bus.publish(topics.commands(AGENT_ID), message);
const launch = (taskId: string, spec: TaskLaunchSpec = launchSpec()) =>
  command({ type: 'launch', taskId, spec });

async function latestOffer(): Promise<OfferMessage | undefined> {
  const [last] = await bus.tail<OfferMessage>(topics.offers(AGENT_ID), 1);
  return last?.message;
}

/** Waits until the task's latest reported state is `state`. */
const reaches = (taskId: string, state: StatusMessage['state']) =>
  waitFor(`${taskId} ${state}`, () => lastStatusOf(taskId)?.state === state);

beforeEach(async () => {
  bus = createMemoryBus({ logger: silentLogger() });
  driver = createMockDriver();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'pacer-agent-test-'));
  statuses = [];
  clockOffsetMs = 0;
  statusSub = bus.consume<StatusMessage>({
    stream: topics.status(AGENT_ID),
    group: 'test',
    consumer: 'test',
    handler: async (entry) => void statuses.push(entry.message),
  });
  agent = await startAgent({
    bus,
    agentId: AGENT_ID,
    drivers: [driver],
    hostname: 'agent.test',
    attributes: {},
    resources: TOTAL,
    workDir,
    clock,
    logger: silentLogger(),
    // Offers come on demand and after each task's end; the timer never fires during a test.
    offerIntervalMs: 3_600_000,
  });
});

afterEach(async () => {
  await agent.stop();
  await statusSub.stop();
  await bus.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('the agent with the mock driver', () => {
  it('reports STAGING, STARTING and RUNNING in order for a launch, with increasing seq', async () => {
    await launch('t1');
    await reaches('t1', 'TASK_RUNNING');
    expect(statesOf('t1')).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    const seqs = statuses.map((s) => s.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(statuses.every((s) => s.agentId === AGENT_ID)).toBe(true);
    expect(driver.running()).toEqual(['t1']);
    expect(driver.started[0]).toMatchObject({ taskId: 't1', kind: 'wasm' });
  });

  it('says in its offers how far it has read its commands, launches included', async () => {
    await agent.offer();
    expect((await latestOffer())?.commandsReadTo).toBeUndefined();
    const launchId = await launch('t1');
    await reaches('t1', 'TASK_RUNNING');
    await agent.offer();
    expect(await latestOffer()).toMatchObject({ commandsReadTo: launchId, runningTaskIds: ['t1'] });
  });

  it('answers a repeated launch with the task state and starts nothing twice', async () => {
    await launch('t1');
    await reaches('t1', 'TASK_RUNNING');
    await launch('t1');
    await waitFor('a second RUNNING', () => statesOf('t1').length === 3);
    expect(statesOf('t1').at(-1)).toBe('TASK_RUNNING');
    expect(driver.started).toHaveLength(1);
  });

  it('reports TASK_KILLED once a kill stops a running task', async () => {
    await launch('t1');
    await reaches('t1', 'TASK_RUNNING');
    await command({ type: 'kill', taskId: 't1' });
    await reaches('t1', 'TASK_KILLED');
    expect(lastStatusOf('t1')).toMatchObject({ reason: 'KILLED' });
    expect(driver.running()).toEqual([]);
  });

  it('answers a kill of a task it does not run with TASK_KILLED, so the master moves on', async () => {
    await command({ type: 'kill', taskId: 'never-here' });
    await reaches('never-here', 'TASK_KILLED');
    expect(lastStatusOf('never-here')?.message).toMatch(/^KILLED: not running on this agent/);
  });

  it('reports TASK_FAILED with the reason of a start error', async () => {
    await launch('t1', launchSpec({ labels: { [MockLabels.startError]: 'INVALID_MODULE' } }));
    await reaches('t1', 'TASK_FAILED');
    expect(statesOf('t1')).toEqual(['TASK_STARTING', 'TASK_FAILED']);
    expect(lastStatusOf('t1')).toMatchObject({
      reason: 'INVALID_MODULE',
      message: expect.stringMatching(/^INVALID_MODULE: scripted start failure/),
    });
    expect(driver.started).toHaveLength(0);
  });

  it('reports how a task ended by itself: FINISHED, or FAILED with its exit code', async () => {
    await launch('ok', launchSpec({ labels: { [MockLabels.exitAfterMs]: '0' } }));
    const failing = { [MockLabels.exitAfterMs]: '0', [MockLabels.exitCode]: '3' };
    await launch('bad', launchSpec({ labels: failing }));
    await reaches('ok', 'TASK_FINISHED');
    await reaches('bad', 'TASK_FAILED');
    expect(lastStatusOf('bad')).toMatchObject({ reason: 'NONZERO_EXIT', exitCode: 3 });
  });

  it('drops a launch it has no room for with TASK_DROPPED and the reason', async () => {
    const tooBig = launchSpec({ resources: { cpus: 2, memMiB: 64, diskMiB: 10 } });
    await launch('big', tooBig);
    await reaches('big', 'TASK_DROPPED');
    expect(lastStatusOf('big')?.message).toMatch(/insufficient cpus/);
    const otherKind = launchSpec({ kind: 'command', cmd: 'true' });
    await launch('cmd', otherKind);
    await reaches('cmd', 'TASK_DROPPED');
    expect(lastStatusOf('cmd')?.message).toMatch(/does not run command tasks/);
    expect(driver.started).toHaveLength(0);
  });

  it('answers a reconcile with the state of each task and kills those not listed', async () => {
    await launch('keep');
    await launch('drop');
    await reaches('keep', 'TASK_RUNNING');
    await reaches('drop', 'TASK_RUNNING');
    const before = statesOf('keep').length;
    await command({ type: 'reconcile', taskIds: ['keep'] });
    await reaches('drop', 'TASK_KILLED');
    await waitFor('the answer for keep', () => statesOf('keep').length > before);
    expect(statesOf('keep').at(-1)).toBe('TASK_RUNNING');
    expect(driver.running()).toEqual(['keep']);
  });

  it('offers what is free: resources and ports of running tasks taken, given back at their end', async () => {
    await agent.offer();
    expect(await latestOffer()).toMatchObject({
      agentId: AGENT_ID,
      total: TOTAL,
      free: TOTAL,
      runningTaskIds: [],
      capabilities: ['wasm'],
    });
    await launch('t1', launchSpec({ ports: [31005] }));
    await reaches('t1', 'TASK_RUNNING');
    await agent.offer();
    expect(await latestOffer()).toMatchObject({
      free: {
        cpus: 0.75,
        memMiB: 192,
        diskMiB: 90,
        ports: [
          [31000, 31004],
          [31006, 31010],
        ],
      },
      runningTaskIds: ['t1'],
    });
    await command({ type: 'kill', taskId: 't1' });
    // The agent offers by itself once a task has ended.
    const freed = await waitFor('an offer without t1', async () => {
      const offer = await latestOffer();
      return offer?.runningTaskIds.length === 0 ? offer : undefined;
    });
    expect(freed.free).toEqual(TOTAL);
  });

  it('leaves a port another process holds out of its offers for a while, then offers it again', async () => {
    // Something else on this host listens on 31003: a task placed there fails to bind it.
    const squatter = net.createServer();
    await new Promise<void>((resolve) =>
      squatter.listen({ port: 31003, host: '0.0.0.0' }, resolve),
    );
    try {
      const failsToBind = { [MockLabels.startError]: 'TRAP' };
      await launch('t1', launchSpec({ ports: [31003], labels: failsToBind }));
      await reaches('t1', 'TASK_FAILED');
      // The offer the agent sends by itself once t1 has ended.
      const failedAt = lastStatusOf('t1')?.at ?? 0;
      const offer = await waitFor('an offer after t1 ended', async () => {
        const latest = await latestOffer();
        return latest && latest.sentAt >= failedAt ? latest : undefined;
      });
      expect(offer.free.ports).toEqual([
        [31000, 31002],
        [31004, 31010],
      ]);
      // The master would place there again: the agent says why it cannot.
      await launch('t2', launchSpec({ ports: [31003] }));
      await reaches('t2', 'TASK_DROPPED');
      expect(lastStatusOf('t2')?.message).toBe(
        'Launch refused: port 31003 is held by another process on this host',
      );
    } finally {
      squatter.close();
    }
    // The hold over, the port is offered (and would be probed) again.
    clockOffsetMs += TAKEN_PORT_HOLD_MS;
    await agent.offer();
    expect((await latestOffer())?.free.ports).toEqual(TOTAL.ports);
  });

  it('drops malformed and unknown commands without harm to its running tasks', async () => {
    await launch('t1');
    await reaches('t1', 'TASK_RUNNING');
    await command({ type: 'format-disk' });
    await command({ type: 'launch', taskId: 'no-spec' });
    await command({ type: 'reconcile' });
    await command({ type: 'kill' });
    await command({ type: 'launch', taskId: 'bad-spec', spec: 'not a spec' });
    // A command after them all is still carried out: the agent read past them.
    await launch('t2');
    await reaches('t2', 'TASK_RUNNING');
    expect(statesOf('t1')).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(statesOf('no-spec')).toEqual([]);
    expect(statesOf('bad-spec')).toEqual([]);
    expect(driver.running().sort()).toEqual(['t1', 't2']);
  });

  it('closes the files it opened when its start fails (its first offer cannot be sent)', async () => {
    const openFiles = async () => (await readdir('/proc/self/fd')).length;
    const before = await openFiles();
    const failing: Bus = {
      ...bus,
      publish: () => Promise.reject(new Error('Redis is gone')),
    };
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'pacer-agent-test-'));
    try {
      await expect(
        startAgent({
          bus: failing,
          agentId: 'agent-that-cannot-offer',
          drivers: [driver],
          hostname: 'agent.test',
          attributes: {},
          resources: TOTAL,
          workDir: otherDir,
          clock: systemClock,
          logger: silentLogger(),
          offerIntervalMs: 3_600_000,
        }),
      ).rejects.toThrow('Redis is gone');
      // The outbox's and the task records' append handles are closed, not left to the GC.
      expect(await openFiles()).toBe(before);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
