// The driver wrapper that turns V8's optimizing compiler on at the agent's first launch: when it
// calls `enable`, and that every call still reaches the driver underneath.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../runtime/driver.js';
import { createMockDriver } from '../runtime/mock/index.js';
import { optimizeOnFirstLaunch } from './optimize-on-first-launch.js';

const spec = (taskId: string): TaskSpec => ({
  taskId,
  kind: 'wasm',
  sandboxDir: os.tmpdir(),
  env: {},
  limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 1_000 },
  ports: [],
  labels: { MOCK_EXIT_AFTER_MS: '0' },
  onLog: () => undefined,
});

describe('optimizeOnFirstLaunch', () => {
  it('enables the compiler before a start reaches the driver, not before', async () => {
    const inner = createMockDriver();
    const order: string[] = [];
    const driver = optimizeOnFirstLaunch(
      { ...inner, start: (s) => (order.push('start'), inner.start(s)) },
      () => order.push('enable'),
    );
    expect(driver.inspect('t1')).toBeUndefined();
    expect(order).toEqual([]);
    await driver.start(spec('t1'));
    expect(order).toEqual(['enable', 'start']);
    await driver.close();
  });

  it('enables the compiler before a recovery', async () => {
    const inner = createMockDriver();
    let enabled = 0;
    const driver = optimizeOnFirstLaunch(inner, () => (enabled += 1));
    await driver.recover({ taskId: 'gone', kind: 'wasm', startedAt: 0 });
    expect(enabled).toBe(1);
    await driver.close();
  });

  it('passes starts, waits, stops and inspections through to the driver', async () => {
    const inner = createMockDriver();
    const driver = optimizeOnFirstLaunch(inner, () => undefined);
    expect(driver.kind).toBe(inner.kind);
    const handle = await driver.start({ ...spec('t2'), labels: {} });
    expect(driver.inspect('t2')).toEqual(handle);
    expect(inner.running()).toEqual(['t2']);
    await driver.stop('t2');
    expect((await driver.wait('t2')).state).toBe('TASK_KILLED');
    await driver.destroy('t2');
    await driver.close();
  });
});
