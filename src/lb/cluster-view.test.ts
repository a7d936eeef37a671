import { describe, expect, it } from 'vitest';
import type { AppSnapshot } from './app-snapshot.js';
import { createClusterView, instanceIdOf } from './cluster-view.js';
import { meaningOf } from './event-news.js';

const web = (tasks: { id: string; alive?: boolean }[]): AppSnapshot => ({
  id: '/web',
  labels: new Map([
    ['HAPROXY_GROUP', 'external'],
    ['HAPROXY_0_VHOST', 'web.example'],
  ]),
  servicePorts: [],
  hasHealthChecks: true,
  notReady: new Set(),
  configChangedAt: '',
  tasks: tasks.map((t, n) => ({
    id: t.id,
    host: 'h',
    state: 'TASK_RUNNING',
    ports: [31000 + n],
    healthAlive: [t.alive ?? true],
  })),
});

const A = 'web.instance-a._app.1';
const B = 'web.instance-b._app.1';
const backends = (view: ReturnType<typeof createClusterView>) =>
  view
    .table()
    .matchVhost('web.example', '/')
    ?.backends.map((b) => b.taskId) ?? [];

describe('cluster view', () => {
  it('takes a task out at once on news, and a stale snapshot does not bring it back', () => {
    const view = createClusterView({ group: 'external', reservedPorts: new Set() });
    view.applySnapshot([web([{ id: A }, { id: B }])]);
    expect(backends(view)).toEqual([A, B]);
    const news = meaningOf({
      eventType: 'status_update_event',
      taskId: A,
      taskStatus: 'TASK_KILLING',
    }).news;
    view.applyNews(news!);
    expect(backends(view)).toEqual([B]);
    // A snapshot read before the kill still lists A as running: A stays out.
    view.applySnapshot([web([{ id: A }, { id: B }])]);
    expect(backends(view)).toEqual([B]);
    // Once the master no longer lists A, the news is forgotten.
    view.applySnapshot([web([{ id: B }])]);
    expect(view.excluded()).toEqual([]);
  });

  it('takes an instance out when its health check fails, back in when a snapshot says alive', () => {
    const view = createClusterView({ group: 'external', reservedPorts: new Set() });
    view.applySnapshot([web([{ id: A }, { id: B }])]);
    view.applyNews(
      meaningOf({
        eventType: 'health_status_changed_event',
        instanceId: instanceIdOf(A),
        alive: false,
      }).news!,
    );
    expect(backends(view)).toEqual([B]);
    view.applySnapshot([web([{ id: A, alive: false }, { id: B }])]);
    expect(backends(view)).toEqual([B]);
    view.applySnapshot([web([{ id: A, alive: true }, { id: B }])]);
    expect(backends(view)).toEqual([A, B]);
  });

  it('does not take out a task that is only staging, and resyncs on app events', () => {
    expect(
      meaningOf({ eventType: 'status_update_event', taskId: A, taskStatus: 'TASK_STAGING' }),
    ).toEqual({ shouldResync: true });
    expect(meaningOf({ eventType: 'deployment_step_success' }).shouldResync).toBe(true);
    expect(meaningOf({ eventType: 'event_stream_attached' }).shouldResync).toBe(false);
    expect(meaningOf({ eventType: { toString: 1 } }).shouldResync).toBe(true);
    expect(instanceIdOf(A)).toBe('web.instance-a');
  });
});
