// One task runner with the mock driver and a stub fetcher: the paths the agent's own tests do not
// reach (a kill while fetching, a fetch failure, a refused limit, re-attaching after a restart).
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait-for.js';
import type { TaskLaunchSpec } from '../bus/index.js';
import { silentLogger } from '../lib/index.js';
import { createMockDriver, MockLabels, type MockDriver } from '../runtime/mock/index.js';
import { FetchError, type Fetcher } from './fetch-artifacts.js';
import { defaultAgentLimits } from './task-limits.js';
import { createTaskRunner, type TaskReport } from './task-runner.js';

const spec = (labels: Record<string, string> = {}): TaskLaunchSpec => ({
  kind: 'wasm',
  appId: '/app',
  appVersion: 'v1',
  env: {},
  labels,
  fetch: [{ uri: 'https://example.test/a.wasm', extract: false, executable: false, cache: true }],
  resources: { cpus: 0.1, memMiB: 16, diskMiB: 16 },
  ports: [],
});

let workDir: string;
let driver: MockDriver;

beforeEach(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'pacer-runner-test-'));
  driver = createMockDriver();
});
afterEach(async () => {
  await driver.close();
  await rm(workDir, { recursive: true, force: true });
});

/** A runner whose reports are recorded; `fetcher` defaults to one that fetches nothing. */
function runner(
  options: {
    labels?: Record<string, string>;
    fetcher?: Pick<Fetcher, 'fetchAll'> & Partial<Pick<Fetcher, 'stage'>>;
    overrides?: Partial<TaskLaunchSpec>;
    /** Starts wait for this first (the mock driver's start is otherwise at once). */
    startGate?: Promise<void>;
    startingHoldMs?: number;
  } = {},
) {
  const reports: TaskReport[] = [];
  const taskRunner = createTaskRunner({
    taskId: 't1',
    spec: { ...spec(options.labels), ...options.overrides },
    driver: options.startGate
      ? { ...driver, start: async (task) => (await options.startGate, driver.start(task)) }
      : driver,
    startingHoldMs: options.startingHoldMs,
    fetcher: options.fetcher ?? { fetchAll: async () => ({}) },
    agentLimits: defaultAgentLimits,
    sandboxDir: path.join(workDir, 't1'),
    host: 'agent.test',
    logger: silentLogger(),
    report: (report) => reports.push(report),
    onLog: () => undefined,
    onEnded: async () => undefined,
    onStarted: () => undefined,
    onHealth: () => undefined,
    runCommand: async () => 0,
  });
  return { taskRunner, reports, states: () => reports.map((r) => r.state) };
}

describe('the task runner', () => {
  it('ends KILLED without starting when the kill comes while it fetches', async () => {
    let release: () => void = () => undefined;
    const fetching = new Promise<void>((resolve) => (release = resolve));
    let isFetching = false;
    const { taskRunner, states } = runner({
      fetcher: {
        fetchAll: async () => {
          isFetching = true;
          await fetching;
          return {};
        },
      },
    });
    const done = taskRunner.run();
    expect(isFetching).toBe(false); // the fetch comes after the limits are checked
    expect(taskRunner.state()).toBe('TASK_STAGING');
    await taskRunner.kill();
    release();
    expect(await done).toMatchObject({ state: 'TASK_KILLED', reason: 'KILLED' });
    expect(isFetching).toBe(true);
    // TASK_STAGING is the master's to tell (it stored the launch): the agent reports none.
    expect(states()).toEqual(['TASK_KILLED']);
    expect(driver.started).toEqual([]);
  });

  it('holds TASK_STARTING back for the TASK_RUNNING of a start that comes soon: one report', async () => {
    let release: () => void = () => undefined;
    const startGate = new Promise<void>((resolve) => (release = resolve));
    const { taskRunner, states } = runner({ startGate, startingHoldMs: 3_600_000 });
    const done = taskRunner.run();
    await waitFor('the start to begin', () => taskRunner.state() === 'TASK_STARTING');
    expect(states()).toEqual([]); // held: the start has not ended
    release();
    await waitFor('the task running', () => states().includes('TASK_RUNNING'));
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    await taskRunner.kill();
    await done;
  });

  it('tells of TASK_STARTING when the start takes longer than the hold', async () => {
    let release: () => void = () => undefined;
    const startGate = new Promise<void>((resolve) => (release = resolve));
    const { taskRunner, states } = runner({ startGate, startingHoldMs: 0 });
    const done = taskRunner.run();
    await waitFor('STARTING while the start waits', () => states().includes('TASK_STARTING'));
    expect(states()).toEqual(['TASK_STARTING']);
    release();
    await waitFor('the task running', () => states().includes('TASK_RUNNING'));
    await taskRunner.kill();
    await done;
  });

  it('fails with FETCH_FAILED when a fetch fails, and starts nothing', async () => {
    const { taskRunner } = runner({
      fetcher: {
        fetchAll: () => Promise.reject(new FetchError('digest mismatch for a.wasm')),
      },
    });
    expect(await taskRunner.run()).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'FETCH_FAILED',
      message: 'FETCH_FAILED: digest mismatch for a.wasm',
    });
    expect(driver.started).toEqual([]);
  });

  it('leaves the sandbox to a driver that makes it, and releases the staged files at the end', async () => {
    const sandboxFiles = [{ name: 'a.wasm', from: '/cache/sha256-a', isExecutable: false }];
    let released = 0;
    const fetcher = {
      fetchAll: () => Promise.reject(new Error('copied instead of staged')),
      stage: async () => ({
        files: sandboxFiles,
        digests: { 'a.wasm': 'a' },
        release: async () => void released++,
      }),
    };
    Object.assign(driver, { makesSandbox: true });
    const { taskRunner } = runner({ fetcher, labels: { [MockLabels.exitAfterMs]: '1' } });
    expect((await taskRunner.run()).state).toBe('TASK_FINISHED');
    expect(driver.started[0]).toMatchObject({ sandboxFiles, fileDigests: { 'a.wasm': 'a' } });
    await expect(stat(path.join(workDir, 't1'))).rejects.toThrow(/ENOENT/);
    expect(released).toBe(1);
  });

  it('removes a sandbox the driver made for staged files once the task ended', async () => {
    const fetcher = {
      fetchAll: () => Promise.reject(new Error('copied instead of staged')),
      stage: async () => ({ files: [], digests: {}, release: async () => undefined }),
    };
    Object.assign(driver, { makesSandbox: true });
    const { taskRunner } = runner({ fetcher });
    const done = taskRunner.run();
    await waitFor('the task running', () => taskRunner.state() === 'TASK_RUNNING');
    // As the Wasm worker does at the task's first file call.
    await mkdir(path.join(workDir, 't1', 'sub'), { recursive: true });
    await taskRunner.kill();
    expect((await done).state).toBe('TASK_KILLED');
    await expect(stat(path.join(workDir, 't1'))).rejects.toThrow(/ENOENT/);
  });

  it('copies the files when a command health check runs in the sandbox', async () => {
    let copied = 0;
    const fetcher = {
      fetchAll: async () => ({ 'a.wasm': String(++copied) }),
      stage: () => Promise.reject(new Error('staged for a command check')),
    };
    Object.assign(driver, { makesSandbox: true });
    const healthChecks = [{ protocol: 'COMMAND', command: { value: 'check.wasm' } }];
    const { taskRunner } = runner({
      fetcher,
      labels: { [MockLabels.exitAfterMs]: '1' },
      overrides: { healthChecks } as Partial<TaskLaunchSpec>,
    });
    expect((await taskRunner.run()).state).toBe('TASK_FINISHED');
    expect(driver.started[0]?.sandboxFiles).toBeUndefined();
    expect(copied).toBe(1);
  });

  it("fails before fetching when a label asks for more than the agent's maximum", async () => {
    let isFetched = false;
    const over = String(defaultAgentLimits.fuelMax + 1n);
    const { taskRunner, states } = runner({
      labels: { PACER_WASM_FUEL: over },
      fetcher: {
        fetchAll: async () => {
          isFetched = true;
          return {};
        },
      },
    });
    expect(await taskRunner.run()).toMatchObject({ state: 'TASK_FAILED', reason: 'OUT_OF_FUEL' });
    expect(states()).toEqual(['TASK_FAILED']);
    expect(isFetched).toBe(false);
  });

  it('reports TASK_GONE when the task it should re-attach to did not survive', async () => {
    const { taskRunner } = runner();
    const handle = { taskId: 't1', kind: 'wasm' as const, startedAt: 0 };
    expect(await taskRunner.resume(handle)).toMatchObject({ state: 'TASK_GONE' });
  });

  it('re-attaches to a task still running and stops it for a kill that came while re-attaching', async () => {
    const handle = await driver.start({
      taskId: 't1',
      kind: 'wasm',
      sandboxDir: workDir,
      env: {},
      labels: {},
      ports: [],
      limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0 },
      onLog: () => undefined,
    });
    const { taskRunner, states } = runner();
    const done = taskRunner.resume(handle);
    await taskRunner.kill();
    expect(await done).toMatchObject({ state: 'TASK_KILLED' });
    expect(states()).toEqual(['TASK_RUNNING', 'TASK_KILLED']);
  });

  it('reports TASK_KILLING before TASK_KILLED when a running task is killed', async () => {
    const { taskRunner, states } = runner();
    const done = taskRunner.run();
    await waitFor('the task running', () => taskRunner.state() === 'TASK_RUNNING');
    await taskRunner.kill();
    expect(await done).toMatchObject({ state: 'TASK_KILLED' });
    expect(states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  });

  it('keeps a killed Wasm service serving through its grace period, a repeated kill included', async () => {
    const { taskRunner, states } = runner({
      overrides: { ports: [31_000], killGracePeriodSeconds: 1 },
    });
    const done = taskRunner.run();
    await waitFor('the task running', () => taskRunner.state() === 'TASK_RUNNING');
    await taskRunner.kill();
    await taskRunner.kill(); // delivered again: the drain goes on
    expect(taskRunner.state()).toBe('TASK_KILLING');
    expect(driver.running()).toEqual(['t1']);
    expect(await done).toMatchObject({ state: 'TASK_KILLED' });
    expect(states().slice(-2)).toEqual(['TASK_KILLING', 'TASK_KILLED']);
  });

  it('stops a draining service at once when the agent shuts down', async () => {
    const { taskRunner } = runner({ overrides: { ports: [31_000], killGracePeriodSeconds: 600 } });
    const done = taskRunner.run();
    await waitFor('the task running', () => taskRunner.state() === 'TASK_RUNNING');
    await taskRunner.kill();
    expect(driver.running()).toEqual(['t1']);
    await taskRunner.kill({ shouldDrain: false });
    expect(await done).toMatchObject({ state: 'TASK_KILLED' });
  });
});
