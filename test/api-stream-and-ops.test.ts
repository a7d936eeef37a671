// The event stream, the queue, leadership (incl. a follower proxying to the leader), metrics
// and pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../src/api/http-server.js';
import { createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { toTimestamp } from '../src/domain/index.js';
import { createLaunchQueue } from '../src/master/launch-queue.js';
import { createQueueView } from '../src/master/launch-queue-view.js';
import type { Plan } from '../src/scheduler/index.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ eventStream: { keepAliveMs: 20, maxOutstanding: 4 } });
});
afterAll(async () => {
  await api.close();
});

const sse = { headers: { Accept: 'text/event-stream' } };

/** Reads a stream until `done(text)` or its end; returns what came. */
async function readUntil(
  body: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
  /** Called with the text so far after each read (to act once something has arrived). */
  onRead: (text: string) => void = () => undefined,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) return { text, ended: true };
    text += decoder.decode(value);
    onRead(text);
    if (done(text)) {
      await reader.cancel();
      return { text, ended: false };
    }
  }
}

describe('/v2/events', () => {
  it('answers 405 JSON without Accept: text/event-stream', async () => {
    const res = await api.app.request('/v2/events');
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('frames each event as event + one-line JSON data, attached first, filtered by event_type', async () => {
    const res = await api.app.request(
      '/v2/events?event_type=event_stream_attached&event_type=app_terminated_event',
      sse,
    );
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    // Emitted once the stream says it is attached: from then on, nothing may be missed.
    let hasEmitted = false;
    const { text } = await readUntil(
      res.body!,
      (t) => t.includes('app_terminated_event\ndata'),
      (t) => {
        if (hasEmitted || !t.includes('event_stream_attached\ndata')) return;
        hasEmitted = true;
        void api.events.emit({ eventType: 'deployment_info', plan: {} });
        void api.events.emit({ eventType: 'app_terminated_event', appId: '/a' });
      },
    );
    const frames = text.split('\n\n').filter((f) => f.startsWith('id:'));
    expect(frames.map((f) => f.split('\n')[1])).toEqual([
      'event: event_stream_attached',
      'event: app_terminated_event',
    ]);
    const data = JSON.parse(frames[1]!.split('\n')[2]!.slice('data: '.length)) as Record<
      string,
      unknown
    >;
    expect(data).toEqual({
      eventType: 'app_terminated_event',
      appId: '/a',
      timestamp: '2026-01-02T03:04:05.678Z',
    });
  });

  it('resumes after Last-Event-ID', async () => {
    await api.events.emit({ eventType: 'app_terminated_event', appId: '/before' });
    const last = api.events.events.at(-1)!.id;
    await api.events.emit({ eventType: 'app_terminated_event', appId: '/missed' });
    const res = await api.app.request('/v2/events?event_type=app_terminated_event', {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(last) },
    });
    const { text } = await readUntil(res.body!, (t) => t.includes('/missed'));
    expect(text).not.toContain('/before');
    expect(text).toContain(`id: ${last + 1}\nevent: app_terminated_event`);
  });

  it('sends keep-alive comments while idle', async () => {
    const res = await api.app.request('/v2/events?event_type=nothing', sse);
    const { text } = await readUntil(res.body!, (t) => t.includes(': keep-alive'));
    expect(text).toBe(': keep-alive\n\n');
  });

  it('cuts off a client that leaves too many events unread, and says it detached', async () => {
    const res = await api.app.request('/v2/events', sse);
    for (let i = 0; i < 10; i++)
      await api.events.emit({ eventType: 'app_terminated_event', appId: `/slow${i}` });
    const { text, ended } = await readUntil(res.body!, () => false);
    expect(ended).toBe(true);
    expect(text.split('\n\n').filter((f) => f.startsWith('id:')).length).toBeLessThanOrEqual(4);
    expect(api.events.events.some((e) => e.event.eventType === 'event_stream_detached')).toBe(true);
  });
});

describe('/v2/queue', () => {
  it('lists apps with waiting instances, their delay and the reasons agents refused them', async () => {
    const now = api.clock.now();
    const queued = await createTestApi({
      queue: {
        get: (appId) => (appId === '/q' ? { deadline: now + 4500 } : undefined),
        rejections: () => ({ agentsEvaluated: 2, reasons: { InsufficientMemory: 2 }, at: now }),
      },
    });
    try {
      await queued.json('POST', '/v2/apps', { id: '/q', cmd: 'x.wasm', instances: 1 });
      const app = (await queued.store.apps.get('/q'))!;
      await queued.store.instances.put(
        instanceOf(app, { condition: 'Scheduled', agentId: undefined, host: undefined }),
      );
      const { queue } = (await (await queued.app.request('/v2/queue')).json()) as {
        queue: {
          count: number;
          delay: unknown;
          processedOffersSummary: { rejectSummaryLastOffers: unknown[] };
        }[];
      };
      expect(queue).toHaveLength(1);
      expect(queue[0]!.count).toBe(1);
      expect(queue[0]!.delay).toEqual({ timeLeftSeconds: 5, overdue: false });
      expect(queue[0]!.processedOffersSummary.rejectSummaryLastOffers).toContainEqual({
        reason: 'InsufficientMemory',
        declined: 2,
        processed: 2,
      });
    } finally {
      await queued.close();
    }
  });

  it('sums the launch attempt apart from the last round, with quota, role and fairness reasons', async () => {
    const view = createQueueView({ launchQueue: createLaunchQueue({ clock: api.clock }) });
    const queued = await createTestApi({ queue: view });
    const t0 = api.clock.now();
    const unplaced = (reasons: Plan['unplaced'][number]['reasons']) => ({
      placements: [],
      unplaced: [{ instanceId: 'i', appId: '/fair/q', reasons, agentsEvaluated: 3 }],
    });
    view.record(unplaced({ InsufficientQuota: 3 }), t0);
    view.record(
      unplaced({ UnfulfilledRole: 1, DeclinedFairShare: 2, InsufficientCpus: 2 }),
      t0 + 1000,
    );
    try {
      await queued.json('POST', '/v2/apps', { id: '/fair/q', cmd: 'x.wasm', instances: 1 });
      const app = (await queued.store.apps.get('/fair/q'))!;
      await queued.store.instances.put(
        instanceOf(app, { condition: 'Scheduled', agentId: undefined, host: undefined }),
      );
      const { queue } = (await (await queued.app.request('/v2/queue')).json()) as {
        queue: { processedOffersSummary: Record<string, unknown> }[];
      };
      const summary = queue[0]!.processedOffersSummary as {
        rejectSummaryLastOffers: { reason: string; declined: number; processed: number }[];
        rejectSummaryLaunchAttempt: { reason: string; declined: number; processed: number }[];
        lastUnusedOfferAt: string;
      };
      const declined = (list: { reason: string; declined: number }[]) =>
        Object.fromEntries(list.filter((r) => r.declined > 0).map((r) => [r.reason, r.declined]));
      expect(declined(summary.rejectSummaryLastOffers)).toEqual({
        UnfulfilledRole: 1,
        InsufficientCpus: 2,
        DeclinedFairShare: 2,
      });
      expect(declined(summary.rejectSummaryLaunchAttempt)).toEqual({
        UnfulfilledRole: 1,
        InsufficientCpus: 2,
        InsufficientQuota: 3,
        DeclinedFairShare: 2,
      });
      expect(summary.rejectSummaryLaunchAttempt[0]).toMatchObject({ processed: 6 });
      expect(summary.rejectSummaryLastOffers[0]).toMatchObject({ processed: 3 });
      expect(summary.lastUnusedOfferAt).toBe(toTimestamp(t0 + 1000));
    } finally {
      await queued.close();
    }
  });

  it('answers 404 for resetting the delay of an app not queued', async () => {
    const res = await api.app.request('/v2/queue//nope/delay', { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'Application /nope not found in tasks queue.' });
  });
});

describe('/v2/leader', () => {
  it('names this master and refuses to abdicate without leader election', async () => {
    expect(await (await api.app.request('/v2/leader')).json()).toEqual({
      leader: 'master.test:8080',
    });
    expect((await api.app.request('/v2/leader', { method: 'DELETE' })).status).toBe(503);
  });

  it('abdicates through the leadership it was given', async () => {
    let abdicated = false;
    const led = await createTestApi({
      leadership: {
        isLeader: () => true,
        leaderUrl: () => 'http://master.test:8080',
        abdicate: async () => void (abdicated = true),
      },
    });
    try {
      const res = await led.app.request('/v2/leader', { method: 'DELETE' });
      expect(await res.json()).toEqual({ message: 'Leadership abdicated' });
      expect(abdicated).toBe(true);
    } finally {
      await led.close();
    }
  });

  it('a follower proxies requests to the leader and answers 502 when there is none', async () => {
    const server = await startHttpServer({ app: api.app, port: 0, host: '127.0.0.1' });
    let leaderUrl: string | undefined = `http://127.0.0.1:${server.port}`;
    const follower = await createTestApi({
      leadership: { isLeader: () => false, leaderUrl: () => leaderUrl, abdicate: async () => {} },
    });
    try {
      const proxied = await follower.json('POST', '/v2/apps', {
        id: '/via-follower',
        cmd: 'a.wasm',
      });
      expect(proxied.status).toBe(201);
      expect(await api.store.apps.get('/via-follower')).toBeDefined();
      expect(await follower.store.apps.get('/via-follower')).toBeUndefined();
      expect(proxied.headers.get('x-marathon-leader')).toBe(leaderUrl);
      const redirected = await follower.app.request('/v2/events', sse);
      expect(redirected.status).toBe(307);
      leaderUrl = undefined;
      const orphan = await follower.app.request('/v2/apps');
      expect(orphan.status).toBe(502);
      expect(await orphan.json()).toEqual({ message: 'Could not determine the current leader' });
    } finally {
      await follower.close();
      await server.close();
    }
  });
});

describe('/metrics and /v2/pods', () => {
  it('answers Prometheus text with gauges and request counts', async () => {
    await api.app.request('/ping');
    const res = await api.app.request('/metrics/prometheus');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await res.text();
    expect(text).toMatch(/^pacer_apps \d+$/m);
    expect(text).toMatch(/^pacer_http_requests_total\{method="GET",status="200"\} \d+$/m);
    expect(text).toContain('pacer_http_request_duration_seconds_bucket{le="+Inf"}');
  });

  it('answers every pod route with 404 and a message that pods are not supported', async () => {
    for (const [method, path] of [
      ['GET', '/v2/pods'],
      ['POST', '/v2/pods'],
      ['GET', '/v2/pods/x::status'],
    ] as const) {
      const res = await api.json(method, path, method === 'POST' ? {} : undefined);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { message: string }).message).toMatch(/Pods are not supported/);
    }
  });
});
