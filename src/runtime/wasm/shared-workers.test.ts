// Shared worker threads: a crashed thread fails the tasks it held and only those; the agent
// (this process) carries on and places new tasks on a new thread.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/index.js';
import { createSharedWorkers, type SharedWorkers } from './shared-workers.js';
import type { WorkerSink } from './worker-pool.js';
import type { RunRequest, WorkerEvent } from './worker-messages.js';
import { waitFor } from '../../../test/support/wait-for.js';

// Stands in for task-worker.js: starts every task, and crashes its thread (an uncaught error,
// as a bug in the host would) when told to run a task named `crash-*`. A stop ends the task
// (its exit event), except for a task named `stuck-*`: its thread never answers (a host call
// that never returns).
const fakeWorker = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.type === 'stop') {
    if (!m.taskId.startsWith('stuck')) parentPort.postMessage([{ type: 'exit', taskId: m.taskId, outcome: 'stopped' }]);
    return;
  }
  if (m.type !== 'runs') return;
  for (const { taskId } of m.requests) {
    if (taskId.startsWith('crash')) setImmediate(() => { throw new Error('host bug'); });
    else parentPort.postMessage([{ type: 'started', taskId }]);
  }
});`;
const dir = mkdtempSync(join(tmpdir(), 'pacer-shared-workers-'));
writeFileSync(join(dir, 'fake-worker.mjs'), fakeWorker);
const workerUrl = pathToFileURL(join(dir, 'fake-worker.mjs'));

function request(taskId: string): RunRequest {
  return {
    type: 'run',
    taskId,
    moduleKey: 'm',
    args: [],
    env: {},
    sandboxDir: dir,
    maxLogLineBytes: 100,
    diskQuotaBytes: 0,
    control: new SharedArrayBuffer(4),
    isResumable: true,
  };
}

/** A sink recording what reached the task. */
function sink() {
  const events: WorkerEvent[] = [];
  let died: (error: Error | undefined) => void = () => undefined;
  const death = new Promise<Error | undefined>((resolve) => (died = resolve));
  let started: () => void = () => undefined;
  const isStarted = new Promise<void>((resolve) => (started = resolve));
  const value: WorkerSink & { events: WorkerEvent[]; death: typeof death; isDead: boolean } = {
    events,
    death,
    isDead: false,
    onEvent(event) {
      events.push(event);
      if (event.type === 'started') started();
    },
    onDeath(error) {
      value.isDead = true;
      died(error);
    },
  };
  return Object.assign(value, { isStarted });
}

let shared: SharedWorkers | undefined;
afterEach(() => shared?.close());

describe('shared workers', () => {
  it('fails only the tasks of a crashed thread and keeps placing new tasks', async () => {
    shared = createSharedWorkers({
      threads: 2,
      tasksPerThread: 10,
      logger: silentLogger(),
      workerUrl,
    });
    const module = {} as WebAssembly.Module; // the fake worker ignores it
    const a = sink();
    const b = sink();
    shared.run(request('a'), module, a); // thread 1
    shared.run(request('b'), module, b); // thread 2
    await Promise.all([a.isStarted, b.isStarted]);
    const crash = sink();
    shared.run(request('crash-1'), module, crash); // least loaded: thread 1, beside `a`
    const error = await crash.death;
    expect(error?.message).toMatch(/host bug/);
    await a.death;
    expect(b.isDead).toBe(false);
    expect(shared.taskCount).toBe(1);
    const c = sink();
    shared.run(request('c'), module, c);
    await c.isStarted;
    expect(shared.taskCount).toBe(2);
  });

  it('ends a thread that does not end a stopped task in time, and places new tasks elsewhere', async () => {
    shared = createSharedWorkers({
      threads: 1,
      tasksPerThread: 10,
      logger: silentLogger(),
      workerUrl,
      stopDeadlineMs: 100,
    });
    const module = {} as WebAssembly.Module;
    const polite = sink();
    const stuck = sink();
    const neighbour = sink();
    for (const [id, s] of [
      ['polite', polite],
      ['stuck-1', stuck],
      ['neighbour', neighbour],
    ] as const)
      shared.run(request(id), module, s);
    await Promise.all([polite.isStarted, stuck.isStarted, neighbour.isStarted]);

    // A thread that answers its stop keeps its other tasks.
    shared.stop('polite');
    await waitFor('the polite task ended', () =>
      polite.events.some((event) => event.type === 'exit'),
    );
    expect(shared.taskCount).toBe(2);

    shared.stop('stuck-1');
    const error = await stuck.death;
    expect(error?.message).toMatch(/did not end task stuck-1 within 100 ms/);
    await neighbour.death; // the price of sharing a thread
    expect(shared.taskCount).toBe(0);
    const next = sink();
    shared.run(request('next'), module, next);
    await next.isStarted;
    expect(shared.taskCount).toBe(1);
  });
});
