// The worker pool asks a worker to collect garbage once it has run `collectEveryRuns` tasks that
// allocated their own memory and is idle, and places the next task on another idle worker
// meanwhile: the collection V8 would otherwise make inside a launch happens between launches.
// Tasks given a kept memory (their module imports it) reserve nothing and never count.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/index.js';
import {
  collectEveryRuns,
  createWorkerPool,
  type PooledWorker,
  type WorkerPool,
} from './worker-pool.js';
import type { RunRequest, WorkerEvent } from './worker-messages.js';

// Stands in for task-worker.js: every task exits at once; a `collect` is counted and answered
// only when the test says so (a `net` message for task `answer-collect`).
const fakeWorker = `
import { parentPort } from 'node:worker_threads';
let collects = 0;
parentPort.on('message', (m) => {
  if (m.type === 'run') return parentPort.postMessage({ type: 'exit', taskId: m.taskId, outcome: { kind: 'returned', collects } });
  if (m.type === 'collect') return void collects++;
  if (m.type === 'net' && m.taskId === 'answer-collect') parentPort.postMessage({ type: 'collected' });
});`;
const dir = mkdtempSync(join(tmpdir(), 'pacer-worker-pool-'));
writeFileSync(join(dir, 'fake-worker.mjs'), fakeWorker);
const workerUrl = pathToFileURL(join(dir, 'fake-worker.mjs'));

/**
 * Runs one task on `worker` and resolves with the collections it had been asked for; `overrides`
 * change the request (a module that imports its memory).
 */
function runOne(
  worker: PooledWorker,
  taskId: string,
  overrides: Partial<RunRequest> = {},
): Promise<number> {
  const request: RunRequest = {
    type: 'run',
    taskId,
    moduleKey: 'm',
    args: [],
    env: {},
    sandboxDir: dir,
    maxLogLineBytes: 100,
    diskQuotaBytes: 0,
    control: new SharedArrayBuffer(8),
    isResumable: false,
    ...overrides,
  };
  return new Promise((resolve, reject) => {
    worker.run(
      request,
      {},
      {
        onEvent(event: WorkerEvent) {
          if (event.type === 'exit')
            resolve((event.outcome as unknown as { collects: number }).collects);
        },
        onDeath: reject,
      },
    );
  });
}

let pool: WorkerPool | undefined;
afterEach(() => pool?.close());

describe('worker pool', () => {
  it('asks an idle worker to collect garbage every collectEveryRuns tasks and places the next task elsewhere meanwhile', async () => {
    pool = createWorkerPool({ size: 2, logger: silentLogger(), workerUrl });
    let first: PooledWorker | undefined;
    for (let i = 0; i < collectEveryRuns; i++) {
      const worker = pool.acquire();
      first ??= worker;
      expect(worker).toBe(first); // the most recently idle worker is reused
      expect(await runOne(worker, `t${i}`)).toBe(0);
      pool.release(worker);
    }
    // `first` has run collectEveryRuns tasks: it is collecting, the other worker takes the task.
    const other = pool.acquire();
    expect(other).not.toBe(first);
    expect(await runOne(other, 'during')).toBe(0);
    pool.release(other);
    // Only one worker is idle and not collecting; with both taken, the collecting one still
    // serves (after its collection) rather than a new thread being started.
    const a = pool.acquire();
    const b = pool.acquire();
    expect(new Set([a, b])).toEqual(new Set([first, other]));
    expect(pool.size).toBe(2);
    first?.post({ type: 'net', taskId: 'answer-collect', events: [] });
    expect(await runOne(first as PooledWorker, 'after')).toBe(1);
    pool.release(a);
    pool.release(b);
  });

  it('never asks for a collection for tasks whose module imports its memory (a kept one)', async () => {
    pool = createWorkerPool({ size: 1, logger: silentLogger(), workerUrl });
    const importedMemory = { minPages: 1, maxPages: 16 };
    const worker = pool.acquire();
    for (let i = 0; i < 3 * collectEveryRuns; i++) {
      expect(await runOne(worker, `imported${i}`, { importedMemory })).toBe(0);
      pool.release(worker);
      expect(pool.acquire()).toBe(worker); // idle and not collecting: the same thread again
    }
    pool.release(worker);
  });
});
