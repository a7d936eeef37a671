import { describe, expect, it } from 'vitest';
import type { Instance } from '../domain/index.js';
import { makeApp, makeInstance } from './fixtures.js';
import { reconcile } from './reconcile.js';

const V = '2026-01-02T00:00:00.000Z';
const now = Date.parse('2026-01-03T00:00:00.000Z');

function app(instances: number, strategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 }) {
  return makeApp({
    id: '/web',
    instances,
    version: V,
    versionInfo: { lastConfigChangeAt: V, lastScalingAt: V },
    upgradeStrategy: strategy,
  });
}

function on(agentId: string, n: number, from = 0): Instance[] {
  return Array.from({ length: n }, (_, i) =>
    makeInstance({
      instanceId: `web.instance-${agentId}-${from + i}`,
      appId: '/web',
      appVersion: V,
      condition: 'Running',
      agentId,
    }),
  );
}

const draining = new Set(['a1']);

describe('reconcile: instances on a draining agent', () => {
  it('starts replacements first and keeps the drained ones while minimumHealthCapacity is 1', () => {
    const result = reconcile({
      app: app(2),
      instances: [...on('a1', 1), ...on('a2', 1)],
      now,
      draining,
    });
    expect(result.place).toBe(1);
    expect(result.stop).toEqual([]);
    expect(result.isConverged).toBe(false);
  });

  it('kills a drained instance once its replacement is ready', () => {
    const instances = [...on('a1', 1), ...on('a2', 2)];
    const result = reconcile({ app: app(2), instances, now, draining });
    expect(result.place).toBe(0);
    expect(result.stop.map((i) => i.agentId)).toEqual(['a1']);
  });

  it('may kill first when the upgrade strategy allows no capacity above the wanted count', () => {
    const strategy = { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 };
    const result = reconcile({ app: app(2, strategy), instances: [...on('a1', 2)], now, draining });
    expect(result.place).toBe(0);
    expect(result.stop).toHaveLength(1);
  });

  it('leaves instances on agents in service alone', () => {
    const result = reconcile({ app: app(2), instances: on('a2', 2), now, draining });
    expect(result).toMatchObject({ place: 0, stop: [], isConverged: true });
  });
});
