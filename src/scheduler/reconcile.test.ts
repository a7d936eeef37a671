// Named scenarios and properties for the reconciler's buckets (BEHAVIOUR.md (h)).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AppDefinition, Condition, Goal, Instance } from '../domain/index.js';
import { makeAgent, makeApp, makeInstance } from './fixtures.js';
import { reconcile, reconcileAny } from './reconcile.js';

const NOW = Date.parse('2026-01-01T01:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();

function instance(n: number, overrides: Partial<Instance> = {}): Instance {
  return makeInstance({
    instanceId: `app.instance-${n}`,
    createdAt: minutesAgo(60 - n),
    ...overrides,
  });
}
const ids = (list: Instance[]) => list.map((i) => i.instanceId);

describe('reconcile', () => {
  it('scales up from none: places every wanted instance', () => {
    const result = reconcile({ app: makeApp({ instances: 3 }), instances: [], now: NOW });
    expect(result).toMatchObject({ place: 3, stop: [], relaunch: [], ignore: [] });
  });

  it('ignores instances that match the wanted count', () => {
    const list = [instance(1), instance(2)];
    const result = reconcile({ app: makeApp({ instances: 2 }), instances: list, now: NOW });
    expect(result).toMatchObject({ place: 0, stop: [], relaunch: [], ignore: list });
  });

  it('scales down to zero: stops every instance', () => {
    const list = [instance(1), instance(2), instance(3, { condition: 'UnreachableInactive' })];
    const app = makeApp({ instances: 0, unreachableStrategy: 'disabled' });
    const result = reconcile({ app, instances: list, now: NOW });
    expect(result.place).toBe(0);
    expect(new Set(ids(result.stop))).toEqual(new Set(ids(list)));
    expect(result.ignore).toEqual([]);
  });

  it('kills the youngest first with YOUNGEST_FIRST', () => {
    const list = [instance(1), instance(3), instance(2)];
    const result = reconcile({ app: makeApp({ instances: 1 }), instances: list, now: NOW });
    expect(ids(result.stop)).toEqual(['app.instance-3', 'app.instance-2']);
  });

  it('kills the oldest first with OLDEST_FIRST', () => {
    const list = [instance(1), instance(3), instance(2)];
    const app = makeApp({ instances: 1, killSelection: 'OLDEST_FIRST' });
    expect(ids(reconcile({ app, instances: list, now: NOW }).stop)).toEqual([
      'app.instance-1',
      'app.instance-2',
    ]);
  });

  it('kills unreachable instances first, then staging ones, then by killSelection', () => {
    const list = [
      instance(1, { condition: 'Unreachable', conditionChangedAt: minutesAgo(0) }),
      instance(2, { condition: 'Staging' }),
      instance(3),
      instance(4),
    ];
    const app = makeApp({
      instances: 1,
      unreachableStrategy: { inactiveAfterSeconds: 600, expungeAfterSeconds: 1200 },
    });
    expect(ids(reconcile({ app, instances: list, now: NOW }).stop)).toEqual([
      'app.instance-1',
      'app.instance-2',
      'app.instance-4',
    ]);
  });

  it('kills from the biggest GROUP_BY group so the rest stay even', () => {
    const agents = [0, 1, 2].map((i) =>
      makeAgent({ agentId: `a${i}`, attributes: { zone: `z${i}` } }),
    );
    const list = [
      instance(1, { agentId: 'a0' }),
      instance(2, { agentId: 'a0' }),
      instance(3, { agentId: 'a1' }),
      instance(4, { agentId: 'a2' }),
    ];
    const app = makeApp({ instances: 3, constraints: [['@zone', 'GROUP_BY']] });
    expect(ids(reconcile({ app, instances: list, now: NOW, agents }).stop)).toEqual([
      'app.instance-2',
    ]);
  });

  it('relaunches an ended instance still wanted once its backoff has passed', () => {
    const failed = instance(1, { condition: 'Failed', launchNotBefore: NOW - 1 });
    const result = reconcile({ app: makeApp({ instances: 1 }), instances: [failed], now: NOW });
    expect(result).toMatchObject({ place: 0, stop: [], relaunch: [failed], ignore: [] });
  });

  it('waits out the backoff of an ended instance without placing a replacement', () => {
    const failed = instance(1, { condition: 'Finished', launchNotBefore: NOW + 5_000 });
    const result = reconcile({ app: makeApp({ instances: 1 }), instances: [failed], now: NOW });
    expect(result).toMatchObject({ place: 0, stop: [], relaunch: [], ignore: [failed] });
  });

  it('keeps counting an unreachable instance until inactiveAfterSeconds', () => {
    const app = makeApp({
      instances: 1,
      unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 },
    });
    const lost = instance(1, { condition: 'Unreachable', conditionChangedAt: minutesAgo(2) });
    expect(reconcile({ app, instances: [lost], now: NOW })).toMatchObject({
      place: 0,
      stop: [],
      relaunch: [],
      expunge: [],
      ignore: [lost],
    });
  });

  it('replaces an unreachable instance after inactiveAfterSeconds and keeps the old one', () => {
    const app = makeApp({
      instances: 1,
      unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 },
    });
    const lost = instance(1, { condition: 'Unreachable', conditionChangedAt: minutesAgo(6) });
    expect(reconcile({ app, instances: [lost], now: NOW })).toMatchObject({
      place: 1,
      stop: [],
      relaunch: [],
      expunge: [],
      ignore: [lost],
    });
  });

  it('expunges an unreachable instance after expungeAfterSeconds', () => {
    const app = makeApp({
      instances: 1,
      unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 },
    });
    const lost = instance(1, {
      condition: 'UnreachableInactive',
      conditionChangedAt: minutesAgo(6),
    });
    expect(reconcile({ app, instances: [lost], now: NOW })).toMatchObject({
      place: 1,
      stop: [lost],
      relaunch: [],
      expunge: [],
      ignore: [],
    });
  });

  it('replaces and expunges at once with the default {0, 0} strategy', () => {
    const lost = instance(1, { condition: 'Unreachable', conditionChangedAt: minutesAgo(0) });
    const result = reconcile({ app: makeApp({ instances: 1 }), instances: [lost], now: NOW });
    expect(result).toMatchObject({ place: 1, stop: [lost], relaunch: [], expunge: [], ignore: [] });
  });

  it('waits forever for an unreachable instance with the disabled strategy', () => {
    const app = makeApp({ instances: 1, unreachableStrategy: 'disabled' });
    const lost = instance(1, { condition: 'Unreachable', conditionChangedAt: minutesAgo(600) });
    expect(reconcile({ app, instances: [lost], now: NOW }).place).toBe(0);
  });

  it('does not count instances being decommissioned', () => {
    const leaving = instance(1, { goal: 'Decommissioned', condition: 'Killing' });
    const result = reconcile({ app: makeApp({ instances: 1 }), instances: [leaving], now: NOW });
    expect(result).toMatchObject({
      place: 1,
      stop: [],
      relaunch: [],
      expunge: [],
      ignore: [leaving],
    });
  });
});

describe('reconcile properties', () => {
  const conditions: Condition[] = [
    'Scheduled',
    'Provisioned',
    'Staging',
    'Starting',
    'Running',
    'Killing',
    'Unreachable',
    'UnreachableInactive',
    'Finished',
    'Killed',
    'Failed',
    'Error',
    'Gone',
    'Dropped',
    'Unknown',
  ];
  const goals: Goal[] = ['Running', 'Stopped', 'Decommissioned'];
  const arbitraryInstances = fc
    .array(
      fc.record({
        condition: fc.constantFrom(...conditions),
        goal: fc.constantFrom(...goals),
        ageMinutes: fc.integer({ min: 0, max: 50 }),
        backoffMs: fc.integer({ min: -10_000, max: 10_000 }),
        healthy: fc.boolean(),
      }),
      { maxLength: 12 },
    )
    .map((specs) =>
      specs.map((s, n) =>
        instance(n, {
          condition: s.condition,
          goal: s.goal,
          conditionChangedAt: minutesAgo(s.ageMinutes),
          launchNotBefore: NOW + s.backoffMs,
          healthCheckResults: s.healthy ? [] : [{ alive: false, consecutiveFailures: 3 }],
        }),
      ),
    );
  const arbitraryStrategy = fc.oneof(
    fc.constant('disabled' as const),
    fc.record({
      inactiveAfterSeconds: fc.integer({ min: 0, max: 1200 }),
      expungeAfterSeconds: fc.integer({ min: 1200, max: 2400 }),
    }),
  );

  it('answers for a steady app (fast path) as for any other', () => {
    const steadyInstances = fc
      .array(fc.record({ healthy: fc.boolean(), ready: fc.option(fc.boolean()) }), {
        maxLength: 12,
      })
      .map((specs) =>
        specs.map((s, n) =>
          instance(n, {
            condition: 'Running',
            goal: 'Running',
            healthCheckResults: s.healthy ? [] : [{ alive: false, consecutiveFailures: 3 }],
            ...(s.ready === null
              ? {}
              : {
                  readinessCheckResults: [{ ready: s.ready }] as Instance['readinessCheckResults'],
                }),
          }),
        ),
      );
    fc.assert(
      fc.property(steadyInstances, fc.boolean(), fc.boolean(), (list, hasHealth, hasReadiness) => {
        // Only whether checks exist matters to readiness here, not what they are.
        const app = makeApp({
          instances: list.length,
          healthChecks: hasHealth ? [{} as AppDefinition['healthChecks'][number]] : [],
          readinessChecks: hasReadiness ? [{}] : [],
        });
        const input = { app, instances: list, now: NOW };
        expect(reconcile(input)).toEqual(reconcileAny(input));
      }),
    );
  });

  it('puts every instance in exactly one bucket', () => {
    fc.assert(
      fc.property(arbitraryInstances, fc.nat(15), arbitraryStrategy, (list, wanted, strategy) => {
        const app = makeApp({ instances: wanted, unreachableStrategy: strategy });
        const result = reconcile({ app, instances: list, now: NOW });
        const all = [...result.stop, ...result.relaunch, ...result.expunge, ...result.ignore];
        expect(all).toHaveLength(list.length);
        expect(new Set(all)).toEqual(new Set(list));
      }),
    );
  });

  it('leaves exactly the wanted count: counted instances kept plus new ones', () => {
    fc.assert(
      fc.property(arbitraryInstances, fc.nat(15), arbitraryStrategy, (list, wanted, strategy) => {
        const app = makeApp({ instances: wanted, unreachableStrategy: strategy });
        const result = reconcile({ app, instances: list, now: NOW });
        // Oracle: counted = goal Running, and not unreachable past inactiveAfterSeconds.
        const isCounted = (i: Instance) => {
          if (i.goal !== 'Running' || i.condition === 'UnreachableInactive') return false;
          if (i.condition !== 'Unreachable' || strategy === 'disabled') return true;
          return NOW < Date.parse(i.conditionChangedAt) + strategy.inactiveAfterSeconds * 1000;
        };
        const kept = list.filter((i) => isCounted(i) && !result.stop.includes(i));
        expect(kept.length + result.place).toBe(wanted);
      }),
    );
  });

  it('relaunches only ended instances with goal Running whose backoff has passed', () => {
    fc.assert(
      fc.property(arbitraryInstances, fc.nat(15), (list, wanted) => {
        const result = reconcile({
          app: makeApp({ instances: wanted }),
          instances: list,
          now: NOW,
        });
        for (const i of result.relaunch) {
          expect(i.goal).toBe('Running');
          expect(['Finished', 'Killed', 'Failed', 'Error', 'Gone', 'Dropped', 'Unknown']).toContain(
            i.condition,
          );
          expect(i.launchNotBefore).toBeLessThanOrEqual(NOW);
        }
      }),
    );
  });
});
