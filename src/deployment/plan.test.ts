// Named scenarios for computePlan(): Marathon's step order and action choice.
import { describe, expect, it } from 'vitest';
import { makeApp } from '../scheduler/fixtures.js';
import { affectedApps, computePlan } from './plan.js';

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

  it('scales an app whose instances alone changed', () => {
    const before = makeApp({ id: '/a', instances: 1 });
    const after = { ...before, instances: 3 };
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

  it('gives an unchanged app no action', () => {
    const app = makeApp({ id: '/a' });
    expect(computePlan({ original: [app], target: [app] })).toEqual([]);
  });

  it('orders apps after their dependencies', () => {
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
});
