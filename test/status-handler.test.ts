// The master's status handler on real Postgres and Redis: a batch of updates (one bus read) has
// the effect of its updates applied one by one, written through to the store, and delivering it
// again changes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisBus, topics, type Bus, type StatusMessage } from '../src/bus/index.js';
import type { AppDefinition, Instance } from '../src/domain/index.js';
import { currentTaskId } from '../src/domain/index.js';
import { normalizeApp } from '../src/api/v2/wire/app-normalize.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createAgentCommands } from '../src/master/agent-commands.js';
import { createApplier, type InstanceView } from '../src/master/applier/index.js';
import { createEventHub } from '../src/master/event-hub.js';
import { createLaunchQueue } from '../src/master/launch-queue.js';
import { createStatusHandler, type StatusHandler } from '../src/master/status-handler.js';
import { createTaskMetrics } from '../src/master/task-metrics.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { instanceOf } from './support/api-doubles.js';
import { REDIS_URL, createTestDatabase, hasService, redisPrefix } from './support/services.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));

function appDefinition(id: string): AppDefinition {
  const result = normalizeApp(
    { id, cmd: 'service.wasm', instances: 3 },
    { id, features: { secrets: false } },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const version = '2026-01-02T03:04:05.678Z';
  return {
    ...result.value,
    version,
    versionInfo: { lastConfigChangeAt: version, lastScalingAt: version },
  };
}

describe.skipIf(!ok)('status handler', () => {
  let database: { url: string; drop: () => Promise<void> };
  let store: Store;
  let bus: Bus;
  let events: ReturnType<typeof createEventHub>;
  let tracker: InstanceView;
  let handler: StatusHandler;
  const app = appDefinition('/batch/app');
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let seq = 0;

  const status = (instance: Instance, state: string, at = ++seq): StatusMessage => ({
    type: 'status',
    agentId: 'agent-1',
    taskId: currentTaskId(instance),
    state: state as StatusMessage['state'],
    seq: at,
    at: Date.now(),
  });

  /** status_update_event states per task id, in stored order. */
  async function storedStates(): Promise<Map<string, string[]>> {
    await events.flush();
    const states = new Map<string, string[]>();
    for (const event of await store.events.since(0, 10_000)) {
      if (event.eventType !== 'status_update_event') continue;
      const { taskId, taskStatus } = event.payload as { taskId: string; taskStatus: string };
      states.set(taskId, [...(states.get(taskId) ?? []), taskStatus]);
    }
    return states;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await createPostgresStore({ url: database.url });
    bus = createRedisBus({ url: REDIS_URL, prefix: redisPrefix(), logger: silentLogger() });
    await store.apps.put(app);
  });

  afterAll(async () => {
    await bus.close();
    await store.close();
    await database.drop();
  });

  beforeEach(async () => {
    events = createEventHub({ store, clock: systemClock, logger: silentLogger() });
    const applier = createApplier({ store, events, logger: silentLogger() });
    await applier.load();
    tracker = applier.instances;
    const placed = { condition: 'Provisioned' as const, lastStatusSeq: 0, startedAt: undefined };
    a = instanceOf(app, placed);
    b = instanceOf(app, placed);
    c = instanceOf(app, { ...placed, condition: 'Running', goal: 'Decommissioned' });
    await applier.submit({ source: 'evaluation', create: [a, b, c] });
    await store.events.trim(0);
    handler = createStatusHandler({
      applier,
      launchQueue: createLaunchQueue({ clock: systemClock }),
      commands: createAgentCommands({ bus }),
      metrics: createTaskMetrics(),
      clock: systemClock,
      logger: silentLogger(),
      onChange: () => undefined,
    });
  });

  it('applies a batch as its updates one by one, ignoring repeated and older ones', async () => {
    const staging = status(a, 'TASK_STAGING');
    const batch = [
      staging,
      status(a, 'TASK_STARTING'),
      staging, // delivered twice
      status(a, 'TASK_RUNNING'),
      status(b, 'TASK_STARTING'),
      status(b, 'TASK_STAGING', 1), // older than what b has by then
    ];
    await handler.handleMany(batch);
    const running = tracker.get(a.instanceId);
    expect(running).toMatchObject({ condition: 'Running', lastStatusSeq: batch[3]?.seq });
    expect(running?.startedAt).toBeDefined();
    expect(tracker.get(b.instanceId)).toMatchObject({ condition: 'Starting' });
    // Written through: a restarted master finds the same.
    expect(await store.instances.get(a.instanceId)).toEqual(running);
    expect(await store.instances.get(b.instanceId)).toEqual(tracker.get(b.instanceId));
    const states = await storedStates();
    expect(states.get(currentTaskId(a))).toEqual(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING']);
    expect(states.get(currentTaskId(b))).toEqual(['TASK_STARTING']);

    // The whole batch again (a redelivery after a lost ack): nothing changes, no new events.
    await handler.handleMany(batch);
    expect(tracker.get(a.instanceId)).toEqual(running);
    expect(await storedStates()).toEqual(states);
  });

  it('never revives an ended task in a batch, records its failure and removes a stopped one', async () => {
    await handler.handleMany([
      status(a, 'TASK_RUNNING'),
      status(a, 'TASK_FAILED'),
      status(a, 'TASK_RUNNING'),
      status(c, 'TASK_KILLED'),
      status(c, 'TASK_RUNNING'), // after its removal: unknown, so the master kills it
    ]);
    expect(tracker.get(a.instanceId)?.condition).toBe('Failed');
    expect(await store.instances.get(a.instanceId)).toMatchObject({ condition: 'Failed' });
    expect(await store.apps.getLastTaskFailure(app.id)).toMatchObject({
      taskId: currentTaskId(a),
      state: 'TASK_FAILED',
    });
    expect(tracker.get(c.instanceId)).toBeUndefined();
    expect(await store.instances.get(c.instanceId)).toBeUndefined();
    const commands = await bus.read<{ type: string; taskId: string }>(topics.commands('agent-1'));
    expect(commands.map((entry) => entry.message)).toContainEqual({
      type: 'kill',
      taskId: currentTaskId(c),
    });
    expect((await storedStates()).get(currentTaskId(a))).toEqual(['TASK_RUNNING', 'TASK_FAILED']);
  });
});
