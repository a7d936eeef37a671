// Named scenarios and properties for computePlan(): Marathon's step order and action choice.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AppDefinition } from '../domain/index.js';
import { ValidationError } from '../domain/index.js';
import { makeApp } from '../scheduler/fixtures.js';
import { affectedApps, computePlan, findDependencyCycle } from './plan.js';

describe('computePlan', () => {
  it('starts a new app at zero, then scales it', () => {
    const steps = computePlan({ original: [], target: [makeApp({ id: '/a' })] });
    expect(steps).toEqual([
      { actions: [{ action: 'StartApplication', app: '/a' }] },
      { actions: [{ action: 'ScaleApplication', app: '/a' }] },
    ]);
  });

  it('stops a removed app', () => {
    const steps = computePlan({ original: [makeApp({ id: '/a' })], target: [] });
    expect(steps).toEqual([{ actions: [{ action: 'StopApplication', app: '/a' }] }]);
  });

  it('stops removed apps before starting new ones', () => {
    const steps = computePlan({
      original: [makeApp({ id: '/old' })],
      target: [makeApp({ id: '/new' })],
    });
    expect(steps.map((s) => s.actions[0]?.action)).toEqual([
      'StopApplication',
      'StartApplication',
      'ScaleApplication',
    ]);
  });

  it('scales an app whose instances alone changed', () => {
    const before = makeApp({ id: '/a', instances: 1 });
    const after = {
      ...before,
      instances: 3,
      version: '2026-02-01T00:00:00.000Z',
      versionInfo: { ...before.versionInfo, lastScalingAt: '2026-02-01T00:00:00.000Z' },
    };
    expect(computePlan({ original: [before], target: [after] })).toEqual([
      { actions: [{ action: 'ScaleApplication', app: '/a' }] },
    ]);
  });

  it('restarts an app whose config changed', () => {
    const before = makeApp({ id: '/a' });
    const after = { ...before, cmd: 'other.wasm', instances: 4 };
    expect(computePlan({ original: [before], target: [after] })).toEqual([
      { actions: [{ action: 'RestartApplication', app: '/a' }] },
    ]);
  });

  it('restarts an app whose lastConfigChangeAt moved (POST /restart)', () => {
    const before = makeApp({ id: '/a' });
    const after = {
      ...before,
      versionInfo: { ...before.versionInfo, lastConfigChangeAt: '2026-03-01T00:00:00.000Z' },
    };
    expect(computePlan({ original: [before], target: [after] })).toEqual([
      { actions: [{ action: 'RestartApplication', app: '/a' }] },
    ]);
  });

  it('restarts an app named in `restart` even when nothing changed', () => {
    const app = makeApp({ id: '/a' });
    expect(computePlan({ original: [app], target: [app], restart: ['/a'] })).toEqual([
      { actions: [{ action: 'RestartApplication', app: '/a' }] },
    ]);
  });

  it('gives an unchanged app no action, even with a new version timestamp', () => {
    const app = makeApp({ id: '/a' });
    const same = { ...app, version: '2026-05-05T00:00:00.000Z', env: { ...app.env } };
    expect(computePlan({ original: [app], target: [same] })).toEqual([]);
  });

  it('orders apps after their dependencies, one step per depth', () => {
    const target = [
      makeApp({ id: '/web', dependencies: ['/db'] }),
      makeApp({ id: '/db' }),
      makeApp({ id: '/cache' }),
    ];
    const steps = computePlan({ original: [], target });
    expect(steps.slice(1)).toEqual([
      {
        actions: [
          { action: 'ScaleApplication', app: '/cache' },
          { action: 'ScaleApplication', app: '/db' },
        ],
      },
      { actions: [{ action: 'ScaleApplication', app: '/web' }] },
    ]);
    expect(affectedApps(steps)).toEqual(['/cache', '/db', '/web']);
  });

  it('counts depth through unchanged apps and group dependencies', () => {
    const db = makeApp({ id: '/data/db' });
    const api = makeApp({ id: '/api', dependencies: ['/data'] });
    const web = makeApp({ id: '/web', dependencies: ['/api'] });
    const original = [db, api, { ...web, instances: 1 }];
    const target = [{ ...db, instances: 2 }, api, { ...web, instances: 5 }];
    expect(computePlan({ original, target })).toEqual([
      { actions: [{ action: 'ScaleApplication', app: '/data/db' }] },
      { actions: [{ action: 'ScaleApplication', app: '/web' }] },
    ]);
  });

  it('refuses a dependency cycle with Marathon’s message', () => {
    const target = [
      makeApp({ id: '/a', dependencies: ['/b'] }),
      makeApp({ id: '/b', dependencies: ['/a'] }),
    ];
    let error: unknown;
    try {
      computePlan({ original: [], target });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      { path: '/', errors: ['Dependency graph has cyclic dependencies.'] },
    ]);
    expect(findDependencyCycle(target)).toEqual(['/a', '/b', '/a']);
  });

  it('finds no cycle in an acyclic graph', () => {
    expect(
      findDependencyCycle([makeApp({ id: '/a', dependencies: ['/b'] }), makeApp({ id: '/b' })]),
    ).toBe(undefined);
  });
});

describe('computePlan properties', () => {
  /** Apps /a0…/a(n-1), each depending only on lower-numbered ones, so the graph is acyclic. */
  const arbitraryWorld = fc
    .array(
      fc.record({
        inOriginal: fc.boolean(),
        inTarget: fc.boolean(),
        instancesBefore: fc.nat(3),
        instancesAfter: fc.nat(3),
        cmdChanged: fc.boolean(),
        dependsOn: fc.array(fc.nat(7), { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 8 },
    )
    .map((specs) => {
      const original: AppDefinition[] = [];
      const target: AppDefinition[] = [];
      specs.forEach((s, i) => {
        const dependencies = [...new Set(s.dependsOn.filter((d) => d < i).map((d) => `/a${d}`))];
        const base = makeApp({ id: `/a${i}`, dependencies, instances: s.instancesBefore });
        if (s.inOriginal) original.push(base);
        if (s.inTarget) {
          target.push({
            ...base,
            instances: s.instancesAfter,
            cmd: s.cmdChanged ? 'v2.wasm' : base.cmd,
          });
        }
      });
      return { original, target };
    });

  it('gives every affected app exactly one action, and no empty step', () => {
    fc.assert(
      fc.property(arbitraryWorld, ({ original, target }) => {
        const steps = computePlan({ original, target });
        const scaleOrRestart = steps
          .flatMap((s) => s.actions)
          .filter((a) => !a.action.startsWith('St'));
        expect(new Set(scaleOrRestart.map((a) => a.app)).size).toBe(scaleOrRestart.length);
        expect(steps.every((s) => s.actions.length > 0)).toBe(true);
      }),
    );
  });

  it('runs an app only after the apps it depends on', () => {
    fc.assert(
      fc.property(arbitraryWorld, ({ original, target }) => {
        const steps = computePlan({ original, target });
        const stepOf = new Map<string, number>();
        steps.forEach((s, i) =>
          s.actions.forEach((a) => {
            if (a.action === 'ScaleApplication' || a.action === 'RestartApplication')
              stepOf.set(a.app, i);
          }),
        );
        for (const app of target) {
          for (const dependency of app.dependencies) {
            const mine = stepOf.get(app.id);
            const theirs = stepOf.get(dependency);
            if (mine !== undefined && theirs !== undefined) expect(theirs).toBeLessThan(mine);
          }
        }
      }),
    );
  });

  it('stops exactly the removed apps, starts exactly the new ones, touches no unchanged app', () => {
    fc.assert(
      fc.property(arbitraryWorld, ({ original, target }) => {
        const steps = computePlan({ original, target });
        const actions = steps.flatMap((s) => s.actions);
        const of = (name: string) => actions.filter((a) => a.action === name).map((a) => a.app);
        const originalIds = new Set(original.map((a) => a.id));
        const targetIds = new Set(target.map((a) => a.id));
        expect(new Set(of('StopApplication'))).toEqual(
          new Set([...originalIds].filter((id) => !targetIds.has(id))),
        );
        expect(new Set(of('StartApplication'))).toEqual(
          new Set([...targetIds].filter((id) => !originalIds.has(id))),
        );
        for (const app of target) {
          const before = original.find((a) => a.id === app.id);
          if (before && JSON.stringify(before) === JSON.stringify(app)) {
            expect(affectedApps(steps)).not.toContain(app.id);
          }
        }
      }),
    );
  });
});
