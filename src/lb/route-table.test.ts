import { describe, expect, it } from 'vitest';
import type { AppSnapshot, TaskSnapshot } from './app-snapshot.js';
import { parseAppsAnswer } from './app-snapshot.js';
import { buildRouteTable } from './route-table.js';

function task(id: string, port: number, more: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, host: 'agent1', state: 'TASK_RUNNING', ports: [port], healthAlive: [true], ...more };
}

function app(
  id: string,
  labels: Record<string, string>,
  more: Partial<AppSnapshot> = {},
): AppSnapshot {
  return {
    id,
    labels: new Map(Object.entries(labels)),
    servicePorts: [],
    hasHealthChecks: true,
    notReady: new Set(),
    configChangedAt: '2026-01-01T00:00:00.000Z',
    tasks: [task(`${id.slice(1)}.instance-1._app.1`, 31000)],
    ...more,
  };
}

const build = (apps: AppSnapshot[], group = 'external', previousOwners?: Map<string, string>) =>
  buildRouteTable({
    apps,
    group,
    isExcluded: () => false,
    ...(previousOwners ? { previousOwners } : {}),
  });

const ext = (vhost: string, more: Record<string, string> = {}) => ({
  HAPROXY_GROUP: 'external',
  HAPROXY_0_VHOST: vhost,
  ...more,
});

describe('buildRouteTable', () => {
  it('routes by host and by the longest path prefix', () => {
    const table = build([
      app('/site', ext('www.example,Example.com')),
      app('/api', ext('www.example', { HAPROXY_0_PATH: '/api' })),
    ]);
    expect(table.matchVhost('www.example', '/index.html')?.appId).toBe('/site');
    expect(table.matchVhost('www.example', '/api/users')?.appId).toBe('/api');
    expect(table.matchVhost('example.com', '/api')?.appId).toBe('/site');
    expect(table.matchVhost('other.example', '/')).toBeUndefined();
  });

  it('takes only the apps of its group; * takes every app, even without HAPROXY_GROUP', () => {
    const apps = [
      app('/public', ext('a.example')),
      app('/private', { HAPROXY_GROUP: 'internal', HAPROXY_0_VHOST: 'b.example' }),
      app('/both', { HAPROXY_GROUP: 'internal,external', HAPROXY_0_VHOST: 'c.example' }),
      app('/none', { HAPROXY_0_VHOST: 'd.example' }),
    ];
    expect(build(apps).routes.map((r) => r.appId)).toEqual(['/public', '/both']);
    expect(build(apps, 'internal').routes.map((r) => r.appId)).toEqual(['/private', '/both']);
    expect(build(apps, '*').routes).toHaveLength(4);
  });

  it('routes only to running, healthy, ready tasks', () => {
    const table = build([
      app('/web', ext('web.example'), {
        tasks: [
          task('web.instance-1._app.1', 31001),
          task('web.instance-2._app.1', 31002, { healthAlive: [false] }),
          task('web.instance-3._app.1', 31003, { healthAlive: [] }),
          task('web.instance-4._app.1', 31004, { state: 'TASK_KILLING' }),
          task('web.instance-5._app.1', 31005),
          task('web.instance-6._app.1', 31006, { healthAlive: [true, false] }),
        ],
        notReady: new Set(['web.instance-5._app.1']),
      }),
    ]);
    expect(table.matchVhost('web.example', '/')?.backends.map((b) => b.port)).toEqual([31001]);
  });

  it('routes tasks of an app without health checks once running', () => {
    const table = build([
      app('/web', ext('web.example'), {
        hasHealthChecks: false,
        tasks: [task('w.instance-1._app.1', 31001, { healthAlive: [] })],
      }),
    ]);
    expect(table.matchVhost('web.example', '/')?.backends).toHaveLength(1);
  });

  it('gives a contested host to the incumbent, else to the earliest configuration; a newcomer never takes it', () => {
    const owner = app('/shop', ext('shop.example'), {
      configChangedAt: '2026-01-02T00:00:00.000Z',
    });
    // An attacker with create rights claims the same host with an id that sorts first.
    const hijack = app('/a-hijack', ext('SHOP.example'), {
      configChangedAt: '2026-01-03T00:00:00.000Z',
    });
    const first = build([hijack, owner]);
    expect(first.matchVhost('shop.example', '/')?.appId).toBe('/shop');
    expect(first.conflicts).toEqual([
      { claim: 'vhost shop.example /', winner: '/shop', loser: '/a-hijack' },
    ]);
    // The owner redeploys (its configuration is now newer): it keeps the host as the incumbent.
    const redeployed = { ...owner, configChangedAt: '2026-01-04T00:00:00.000Z' };
    expect(
      build([hijack, redeployed], 'external', first.owners).matchVhost('shop.example', '/')?.appId,
    ).toBe('/shop');
    // A vhost claimed in another group never reaches this balancer at all.
    const otherGroup = app(
      '/b',
      { HAPROXY_GROUP: 'internal', HAPROXY_0_VHOST: 'shop.example' },
      { configChangedAt: '2000-01-01T00:00:00.000Z' },
    );
    expect(build([owner, otherGroup]).matchVhost('shop.example', '/')?.appId).toBe('/shop');
  });

  it("gives each service port to one app and never the balancer's own port", () => {
    const table = buildRouteTable({
      apps: [
        app('/a', ext('a.example'), { servicePorts: [10001] }),
        app('/b', ext('b.example'), {
          servicePorts: [10001],
          configChangedAt: '2027-01-01T00:00:00.000Z',
        }),
        app('/c', ext('c.example'), { servicePorts: [8080] }),
      ],
      group: 'external',
      isExcluded: () => false,
      reservedPorts: new Set([8080]),
    });
    expect(table.matchServicePort(10001)?.appId).toBe('/a');
    expect(table.matchServicePort(8080)).toBeUndefined();
    expect(table.problems.find((p) => p.appId === '/c')?.problems[0]).toContain('own port');
  });

  it('reports hostile label values instead of routing them', () => {
    const table = build([
      app('/x', ext(`good.example,bad host,__proto__:1,${'h'.repeat(300)}`)),
      app('/y', ext('y.example', { HAPROXY_0_PATH: 'no-slash' })),
      app('/z', ext('z'.repeat(5000))),
      app('/t', ext('t.example', { HAPROXY_0_MODE: 'tcp' }), { servicePorts: [10002] }),
    ]);
    expect(table.routes.find((r) => r.appId === '/x')?.vhosts).toEqual(['good.example']);
    expect(table.routes.map((r) => r.appId)).not.toContain('/y');
    expect(table.matchVhost('t.example', '/')).toBeUndefined();
    expect(table.matchServicePort(10002)?.mode).toBe('tcp');
    const problems = new Map(table.problems.map((p) => [p.appId, p.problems.join('; ')]));
    expect(problems.get('/x')).toContain("'bad host'");
    expect(problems.get('/y')).toContain('not a path prefix');
    expect(problems.get('/z')).toContain('longer than');
    expect(problems.get('/t')).toContain('ignored in tcp mode');
  });

  it('reads an apps answer whose labels and fields are hostile', () => {
    const body = JSON.parse(
      '{"apps":[{"id":"/p","labels":{"__proto__":"x","HAPROXY_GROUP":"external","HAPROXY_0_VHOST":"p.example"},' +
        '"portDefinitions":[{"port":10003},{"port":"x"}],"healthChecks":[],"tasks":[{"id":"p.instance-1._app.1","host":"h","state":"TASK_RUNNING","ports":[31000,-1,"7"]},{"id":5}]},' +
        '{"id":7},"junk"]}',
    ) as unknown;
    const [parsed, ...rest] = parseAppsAnswer(body);
    expect(rest).toEqual([]);
    expect(parsed?.labels.get('__proto__')).toBe('x');
    expect(parsed?.servicePorts).toEqual([10003]);
    expect(parsed?.tasks.map((t) => t.ports)).toEqual([[31000]]);
    expect(build(parseAppsAnswer(body)).matchVhost('p.example', '/')?.backends).toHaveLength(1);
    expect(() => parseAppsAnswer('nope')).toThrow();
  });
});
