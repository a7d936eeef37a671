// The TaskDriver conformance suite (STYLE.md: one suite per interface), run against every
// driver with fixtures that describe behaviour, not how a driver achieves it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskDriver, TaskExit, TaskSpec } from '../../src/runtime/index.js';

/** What every fixture receives: the id to use and where log lines must go. */
export interface FixtureInput {
  taskId: string;
  onLog: TaskSpec['onLog'];
}

export interface DriverConformanceFixtures {
  /** A task that writes a line containing `hello` to stdout and exits 0. */
  printsHelloAndExits0(input: FixtureInput): TaskSpec | Promise<TaskSpec>;
  /** A task that exits with code 3. */
  exits3(input: FixtureInput): TaskSpec | Promise<TaskSpec>;
  /** A task that runs until it is stopped. */
  runsForever(input: FixtureInput): TaskSpec | Promise<TaskSpec>;
}

export interface DriverConformanceOptions {
  create(): TaskDriver | Promise<TaskDriver>;
  fixtures: DriverConformanceFixtures;
}

/** Resolves true when `promise` settles within a few turns of the event loop (no sleeping). */
async function isSettledSoon(promise: Promise<unknown>): Promise<boolean> {
  let isSettled = false;
  void promise.then(
    () => (isSettled = true),
    () => (isSettled = true),
  );
  for (let i = 0; i < 20 && !isSettled; i++) await new Promise((r) => setImmediate(r));
  return isSettled;
}

let counter = 0;
function nextId(name: string): string {
  counter += 1;
  return `conformance_${name}.instance-${process.pid}-${counter}._app.1`;
}

export function describeDriverConformance(name: string, options: DriverConformanceOptions): void {
  describe(`TaskDriver conformance: ${name}`, () => {
    let driver: TaskDriver;
    const logs = new Map<string, { stream: 'stdout' | 'stderr'; line: string }[]>();
    const input = (label: string): FixtureInput => {
      const taskId = nextId(label);
      logs.set(taskId, []);
      return { taskId, onLog: (stream, line) => logs.get(taskId)?.push({ stream, line }) };
    };

    beforeAll(async () => {
      driver = await options.create();
    });
    afterAll(async () => {
      await driver.close();
    });

    it('starts a task and inspect returns its handle', async () => {
      const spec = await options.fixtures.runsForever(input('inspect'));
      const handle = await driver.start(spec);
      expect(handle.taskId).toBe(spec.taskId);
      expect(handle.kind).toBe(driver.kind);
      expect(driver.inspect(spec.taskId)).toEqual(handle);
      await driver.destroy(spec.taskId);
    });

    it('reports TASK_FINISHED with exit code 0 and forwards stdout lines', async () => {
      const spec = await options.fixtures.printsHelloAndExits0(input('hello'));
      await driver.start(spec);
      const exit = await driver.wait(spec.taskId);
      expect(exit.state).toBe('TASK_FINISHED');
      expect(exit.exitCode).toBe(0);
      expect(exit.reason).toBeUndefined();
      expect(logs.get(spec.taskId)).toContainEqual(
        expect.objectContaining({ stream: 'stdout', line: expect.stringContaining('hello') }),
      );
      await driver.destroy(spec.taskId);
    });

    it('reports TASK_FAILED NONZERO_EXIT with the code for a non-zero exit', async () => {
      const spec = await options.fixtures.exits3(input('exit3'));
      await driver.start(spec);
      const exit = await driver.wait(spec.taskId);
      expect(exit.state).toBe('TASK_FAILED');
      expect(exit.reason).toBe('NONZERO_EXIT');
      expect(exit.exitCode).toBe(3);
      expect(exit.message).toMatch(/^NONZERO_EXIT: .*3/);
      await driver.destroy(spec.taskId);
    });

    it('keeps a running task running until it is stopped, then reports TASK_KILLED', async () => {
      const spec = await options.fixtures.runsForever(input('forever'));
      await driver.start(spec);
      const exited = driver.wait(spec.taskId);
      expect(await isSettledSoon(exited)).toBe(false);
      await driver.stop(spec.taskId);
      const exit: TaskExit = await exited;
      expect(exit.state).toBe('TASK_KILLED');
      expect(exit.reason).toBe('KILLED');
      expect(exit.message).toMatch(/^KILLED: /);
      await driver.destroy(spec.taskId);
    });

    it('resolves wait with the same exit however often it is called', async () => {
      const spec = await options.fixtures.exits3(input('waits'));
      await driver.start(spec);
      const [a, b] = await Promise.all([driver.wait(spec.taskId), driver.wait(spec.taskId)]);
      expect(b).toEqual(a);
      expect(await driver.wait(spec.taskId)).toEqual(a);
      await driver.destroy(spec.taskId);
    });

    it('treats stop as idempotent and leaves an ended task with its own exit', async () => {
      const spec = await options.fixtures.printsHelloAndExits0(input('stop-ended'));
      await driver.start(spec);
      const exit = await driver.wait(spec.taskId);
      await driver.stop(spec.taskId);
      await driver.stop(spec.taskId);
      expect(await driver.wait(spec.taskId)).toEqual(exit);
      expect(exit.state).toBe('TASK_FINISHED');
      await driver.destroy(spec.taskId);
    });

    it('stops a running task whichever way the stops race', async () => {
      const spec = await options.fixtures.runsForever(input('double-stop'));
      await driver.start(spec);
      await Promise.all([driver.stop(spec.taskId), driver.stop(spec.taskId)]);
      expect((await driver.wait(spec.taskId)).state).toBe('TASK_KILLED');
      await driver.destroy(spec.taskId);
    });

    it('treats destroy as idempotent and forgets the task', async () => {
      const spec = await options.fixtures.runsForever(input('destroy'));
      await driver.start(spec);
      await driver.destroy(spec.taskId);
      await driver.destroy(spec.taskId);
      expect(driver.inspect(spec.taskId)).toBeUndefined();
    });

    it('answers inspect, stop and destroy of an unknown task without failing', async () => {
      expect(driver.inspect('no-such-task')).toBeUndefined();
      await expect(driver.stop('no-such-task')).resolves.toBeUndefined();
      await expect(driver.destroy('no-such-task')).resolves.toBeUndefined();
    });

    it('runs several tasks at once and stops each independently', async () => {
      const specs = await Promise.all(
        [1, 2, 3].map(async () => options.fixtures.runsForever(input('many'))),
      );
      await Promise.all(specs.map((spec) => driver.start(spec)));
      const [first, ...rest] = specs;
      await driver.stop(first!.taskId);
      expect((await driver.wait(first!.taskId)).state).toBe('TASK_KILLED');
      for (const spec of rest) expect(await isSettledSoon(driver.wait(spec.taskId))).toBe(false);
      await Promise.all(rest.map((spec) => driver.destroy(spec.taskId)));
    });
  });
}
