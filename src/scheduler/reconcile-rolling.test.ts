import { describe, expect, it } from 'vitest';
import type { Instance } from '../domain/index.js';
import { makeApp, makeInstance } from './fixtures.js';
import { reconcile } from './reconcile.js';

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

describe('reconcile: rolling replacement and convergence', () => {
  it('creates the missing instances when none exist', () => {
    const result = reconcile({ app: app(3), instances: [], ...ctx });
    expect(result).toMatchObject({ place: 3, stop: [], relaunch: [], isConverged: false });
  });

  it('is converged when exactly the wanted instances run the current config', () => {
    const result = reconcile({ app: app(2), instances: running(2, NEW), ...ctx });
    expect(result).toMatchObject({ place: 0, stop: [], isConverged: true });
  });

  it('starts all new instances first and keeps the old ones with the default strategy (1, 1)', () => {
    const result = reconcile({ app: app(4), instances: running(4, OLD), ...ctx });
    expect(result.place).toBe(4);
    expect(result.stop).toEqual([]);
  });

  it('kills old instances only as new ones become ready, never below minimumHealthCapacity', () => {
    const strategy = { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 };
    const first = reconcile({ app: app(4, strategy), instances: running(4, OLD), ...ctx });
    // 0% over: nothing new may start before old ones go; 50% health: two of four may go.
    expect(first.place).toBe(0);
    expect(first.stop).toHaveLength(2);
    const midway = reconcile({
      app: app(4, strategy),
      instances: [...running(2, OLD), ...running(2, NEW)],
      ...ctx,
    });
    expect(midway.stop).toHaveLength(2);
  });

  it('does not count new instances that are not running yet as ready', () => {
    const strategy = { minimumHealthCapacity: 1, maximumOverCapacity: 0.5 };
    const staging = running(2, NEW, { condition: 'Staging' });
    const result = reconcile({
      app: app(4, strategy),
      instances: [...running(4, OLD), ...staging],
      ...ctx,
    });
    expect(result.stop).toEqual([]);
    expect(result.place).toBe(0);
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
    expect(
      reconcile({ app: checked, instances: [...healthyOld, ...unhealthyNew], ...ctx }).stop,
    ).toEqual([]);
    const healthyNew = running(2, NEW, {
      healthCheckResults: [{ alive: true, consecutiveFailures: 0 }],
    });
    expect(
      reconcile({ app: checked, instances: [...healthyOld, ...healthyNew], ...ctx }).stop,
    ).toHaveLength(2);
  });

  it('goes one over capacity when the strategy allows neither starting nor stopping', () => {
    const result = reconcile({
      app: app(2, { minimumHealthCapacity: 1, maximumOverCapacity: 0 }),
      instances: running(2, OLD),
      ...ctx,
    });
    expect(result.place).toBe(1);
    expect(result.stop).toEqual([]);
  });

  it('forgets decommissioned instances that have ended', () => {
    const gone = makeInstance({ appId: '/web', goal: 'Decommissioned', condition: 'Killed' });
    const result = reconcile({ app: app(0), instances: [gone], ...ctx });
    expect(result.expunge).toEqual([gone]);
  });
});
