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

// Stands in for task-worker.js: starts every task, and crashes its thread (an uncaught error,
// as a bug in the host would) when told to run a task named `crash-*`.
const fakeWorker = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
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
});
