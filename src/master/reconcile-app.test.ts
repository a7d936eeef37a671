import { describe, expect, it } from 'vitest';
import type { Instance } from '../domain/index.js';
import { makeApp, makeInstance } from '../scheduler/fixtures.js';
import { reconcileApp } from './reconcile-app.js';

const OLD = '2026-01-01T00:00:00.000Z';
const NEW = '2026-01-02T00:00:00.000Z';
const now = Date.parse('2026-01-03T00:00:00.000Z');

function app(instances: number, strategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 }) {
  return makeApp({
    id: '/web',
    instances,
    version: NEW,
    versionInfo: { lastConfigChangeAt: NEW, lastScalingAt: NEW },
    upgradeStrategy: strategy,
  });
}

function running(n: number, version: string, extra: Partial<Instance> = {}): Instance[] {
  return Array.from({ length: n }, (_, i) =>
    makeInstance({
      instanceId: `web.instance-${version}-${i}`,
      appId: '/web',
      appVersion: version,
      condition: 'Running',
      ...extra,
    }),
  );
}

const ctx = { now, agents: [] };

describe('reconcileApp', () => {
  it('creates the missing instances when none exist', () => {
    const result = reconcileApp(app(3), [], ctx);
    expect(result).toMatchObject({ create: 3, stop: [], relaunch: [], isConverged: false });
  });

  it('is converged when exactly the wanted instances run the current config', () => {
    const result = reconcileApp(app(2), running(2, NEW), ctx);
    expect(result).toMatchObject({ create: 0, stop: [], isConverged: true });
  });

  it('starts all new instances first and keeps the old ones with the default strategy (1, 1)', () => {
    const result = reconcileApp(app(4), running(4, OLD), ctx);
    expect(result.create).toBe(4);
    expect(result.stop).toEqual([]);
  });

  it('kills old instances only as new ones become ready, never below minimumHealthCapacity', () => {
    const strategy = { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 };
    const first = reconcileApp(app(4, strategy), running(4, OLD), ctx);
    // 0% over: nothing new may start before old ones go; 50% health: two of four may go.
    expect(first.create).toBe(0);
    expect(first.stop).toHaveLength(2);
    const midway = reconcileApp(app(4, strategy), [...running(2, OLD), ...running(2, NEW)], ctx);
    expect(midway.stop).toHaveLength(2);
  });

  it('does not count new instances that are not running yet as ready', () => {
    const strategy = { minimumHealthCapacity: 1, maximumOverCapacity: 0.5 };
    const staging = running(2, NEW, { condition: 'Staging' });
    const result = reconcileApp(app(4, strategy), [...running(4, OLD), ...staging], ctx);
    expect(result.stop).toEqual([]);
    expect(result.create).toBe(0);
  });

  it('waits for health when the app has health checks', () => {
    const checked = {
      ...app(2, { minimumHealthCapacity: 1, maximumOverCapacity: 1 }),
      healthChecks: [
        {
          protocol: 'HTTP' as const,
          gracePeriodSeconds: 1,
          intervalSeconds: 1,
          timeoutSeconds: 1,
          maxConsecutiveFailures: 3,
          delaySeconds: 0,
        },
      ],
    };
    const healthyOld = running(2, OLD, {
      healthCheckResults: [{ alive: true, consecutiveFailures: 0 }],
    });
    const unhealthyNew = running(2, NEW, { healthCheckResults: [] });
    expect(reconcileApp(checked, [...healthyOld, ...unhealthyNew], ctx).stop).toEqual([]);
    const healthyNew = running(2, NEW, {
      healthCheckResults: [{ alive: true, consecutiveFailures: 0 }],
    });
    expect(reconcileApp(checked, [...healthyOld, ...healthyNew], ctx).stop).toHaveLength(2);
  });

  it('goes one over capacity when the strategy allows neither starting nor stopping', () => {
    const result = reconcileApp(
      app(2, { minimumHealthCapacity: 1, maximumOverCapacity: 0 }),
      running(2, OLD),
      ctx,
    );
    expect(result.create).toBe(1);
    expect(result.stop).toEqual([]);
  });

  it('forgets decommissioned instances that have ended', () => {
    const gone = makeInstance({ appId: '/web', goal: 'Decommissioned', condition: 'Killed' });
    const result = reconcileApp(app(0), [gone], ctx);
    expect(result.expunge).toEqual([gone]);
  });
});
