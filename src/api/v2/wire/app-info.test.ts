// AppInfo's readinessCheckResults (embed=apps.readiness): the results of the running
// deployment's readiness checks, as Marathon shows them (pacer lb keeps not-ready tasks out of
// rotation by them), and none once no deployment runs the app.
import { describe, expect, it } from 'vitest';
import { makeApp, makeInstance } from '../../../scheduler/fixtures.js';
import { toAppInfo } from './app-info.js';

const app = makeApp({ id: '/svc' });
const notReady = { name: 'ready', taskId: 'svc.t1', ready: false };
const ready = {
  name: 'ready',
  taskId: 'svc.t2',
  ready: true,
  lastResponse: { status: 200, contentType: 'text/plain', body: 'ok' },
};
const instances = [
  makeInstance({ appId: '/svc', readinessCheckResults: [notReady] }),
  makeInstance({ appId: '/svc', readinessCheckResults: [ready] }),
  makeInstance({ appId: '/svc' }),
];

describe('AppInfo readinessCheckResults', () => {
  it("lists every instance's result while a deployment runs the app", () => {
    const info = toAppInfo(app, {
      instances,
      deploymentIds: ['d1'],
      embed: new Set(['readiness']),
    });
    expect(info.readinessCheckResults).toEqual([notReady, ready]);
  });

  it('is empty once no deployment runs the app, and absent unless embedded', () => {
    expect(
      toAppInfo(app, { instances, deploymentIds: [], embed: new Set(['readiness']) })
        .readinessCheckResults,
    ).toEqual([]);
    expect(
      toAppInfo(app, { instances, deploymentIds: ['d1'], embed: new Set() }),
    ).not.toHaveProperty('readinessCheckResults');
  });
});
