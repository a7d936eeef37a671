// A follower authenticates before it relays or redirects: two real `pacer master` processes on
// Postgres and Redis with authentication on; without credentials the follower answers 401 itself
// (never a 307 to the leader, never the leader's data), without the right the leader's 403 comes
// back through the relay, and `/ping` stays open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  prepareCluster,
  startPacer,
  waitFor,
  waitForApi,
  type ClusterSetup,
  type PacerProcess,
} from './support/cluster.js';
import { hasService } from './support/services.js';

const hasServices = (await hasService('postgres')) && (await hasService('redis'));
const BOOTSTRAP = 'follower-auth-bootstrap-secret';
const ADMIN = `Bearer ${BOOTSTRAP}`;

describe.skipIf(!hasServices)('a follower with authentication on', () => {
  let cluster: ClusterSetup;
  const masters: PacerProcess[] = [];
  let leader = '';
  let follower = '';
  /** A principal that may only act under /team-a. */
  let teamA = '';

  function startMaster(port: number): PacerProcess {
    const url = `http://127.0.0.1:${port}`;
    const proc = startPacer(['master', '--host', '127.0.0.1', '--port', String(port)], {
      ...cluster.env,
      LOG_LEVEL: 'warn',
      PACER_BOOTSTRAP_TOKEN: BOOTSTRAP,
      PACER_PUBLIC_URL: url,
    });
    masters.push(proc);
    return proc;
  }

  function call(
    base: string,
    method: string,
    pathname: string,
    options: { auth?: string; body?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.auth) headers.Authorization = options.auth;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    // Never follow a redirect: a 307 is itself what must not happen without credentials.
    return fetch(base + pathname, { method, headers, body: options.body, redirect: 'manual' });
  }

  /** The leader's count of answers with `status` (its request metrics, by route template). */
  async function leaderAnswered(status: number): Promise<number> {
    const text = await (await call(leader, 'GET', '/metrics/prometheus', { auth: ADMIN })).text();
    let total = 0;
    for (const line of text.split('\n'))
      if (line.startsWith('pacer_http_requests_total{') && line.includes(`status="${status}"`))
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
    return total;
  }

  beforeAll(async () => {
    cluster = await prepareCluster();
    leader = cluster.api.url;
    const first = startMaster(cluster.port);
    await waitForApi(leader, first);
    // The first master leads before the second starts: which is which is then known.
    await waitFor('the first master to lead', async () => {
      const ping = await fetch(`${leader}/ping`);
      return ping.headers.get('x-marathon-leader') === leader;
    });
    const port = await freePort();
    follower = `http://127.0.0.1:${port}`;
    await waitForApi(follower, startMaster(port));
    await waitFor('the follower to know the leader', async () => {
      const ping = await fetch(`${follower}/ping`);
      return ping.headers.get('x-marathon-leader') === leader;
    });
    const created = await call(leader, 'POST', '/v2/acl/tokens', {
      auth: ADMIN,
      body: JSON.stringify({
        name: 'team-a',
        grants: [{ path: '/team-a', actions: ['view', 'create', 'update', 'delete'] }],
      }),
    });
    expect(created.status).toBe(201);
    teamA = `Bearer ${((await created.json()) as { secret: string }).secret}`;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(masters.map((m) => m.stop()));
    await cluster?.db.drop();
  });

  it('answers 401 itself without credentials, relaying nothing to the leader', async () => {
    const before = await leaderAnswered(401);
    const asked: [string, string, string?][] = [
      ['GET', '/v2/apps'],
      ['GET', '/v2/events'],
      ['GET', '/v2/events?event_type=status_update_event'],
      ['GET', '/v2/leader'],
      ['DELETE', '/v2/leader'],
      ['POST', '/v2/apps', JSON.stringify({ id: '/anyone', cmd: 'a.wasm' })],
      ['DELETE', '/v2/groups/'],
    ];
    for (const [method, pathname, body] of asked) {
      const answer = await call(follower, method, pathname, body === undefined ? {} : { body });
      expect(answer.status, `${method} ${pathname}`).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Basic realm="pacer"');
      // Nothing of the leader's: no redirect to it, no relayed answer.
      expect(answer.headers.get('location')).toBeNull();
      expect(await answer.json()).toEqual({ message: expect.any(String) });
    }
    // A wrong secret is no better than none.
    const wrong = await call(follower, 'GET', '/v2/events', { auth: `${ADMIN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('location')).toBeNull();
    // The leader never saw them (it would have answered 401 to each had they been relayed).
    expect(await leaderAnswered(401)).toBe(before);
    expect((await call(leader, 'GET', '/v2/apps')).status).toBe(401);
    expect(await leaderAnswered(401)).toBe(before + 1);
  });

  it('does not buffer an unauthenticated body: 401, not 413, for one past the limit', async () => {
    const huge = JSON.stringify({ id: '/big', cmd: 'x'.repeat(2 * 1024 * 1024) });
    const answer = await call(follower, 'POST', '/v2/apps', { body: huge });
    expect(answer.status).toBe(401);
  });

  it('keeps /ping open', async () => {
    const ping = await call(follower, 'GET', '/ping');
    expect(ping.status).toBe(200);
  });

  it('relays an authenticated request: the leader answers, 403 without the right', async () => {
    const app = JSON.stringify({ id: '/team-b/app', cmd: 'a.wasm', instances: 0 });
    const refused = await call(follower, 'POST', '/v2/apps', { auth: teamA, body: app });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-marathon-leader')).toBe(leader);
    const own = JSON.stringify({ id: '/team-a/app', cmd: 'a.wasm', instances: 0 });
    const created = await call(follower, 'POST', '/v2/apps', { auth: teamA, body: own });
    expect(created.status).toBe(201);
    const listed = await call(follower, 'GET', '/v2/apps', { auth: teamA });
    expect(listed.status).toBe(200);
    const ids = ((await listed.json()) as { apps: { id: string }[] }).apps.map((a) => a.id);
    expect(ids).toEqual(['/team-a/app']);
    // The event stream is redirected to the leader, once the caller is known.
    const events = await call(follower, 'GET', '/v2/events', { auth: teamA });
    expect(events.status).toBe(307);
    expect(events.headers.get('location')).toBe(`${leader}/v2/events`);
    await events.body?.cancel();
  });
});
