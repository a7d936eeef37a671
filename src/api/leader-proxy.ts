// A follower master answers nothing itself: it forwards each request to the leader and relays
// the answer, as Marathon's LeaderProxyFilter does; the event stream is redirected instead.
import { Hono } from 'hono';
import { WRITE_METHODS, limitBodies } from './body-limits.js';
import type { ApiDeps } from './deps.js';
import { ApiError, ApiErrorCode, respondToError } from './errors.js';
import { routingPath } from './request.js';

/** Header naming the masters a request passed through, to stop proxy loops. */
export const VIA_HEADER = 'X-Marathon-Via';

/** Paths every master answers itself, leader or not. */
function isLocal(method: string, path: string): boolean {
  if (path === '/ping' || path.startsWith('/metrics')) return true;
  if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) return true;
  // The web UI's code is the same on every master; its API calls are relayed like any other.
  if (path === '/' || path === '/ui' || path.startsWith('/ui/')) return method === 'GET';
  // Artifacts live in the shared store: agents may fetch them from any master.
  return method === 'GET' && path.startsWith('/v2/artifacts/');
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length'];

/** The answer of the leader to a request, or undefined when this master answers it itself. */
export type LeaderProxy = (request: Request, env: unknown) => Promise<Response> | undefined;

/** Forwards requests to the leader while this master follows. */
export function leaderProxy(
  deps: ApiDeps & { leadership: NonNullable<ApiDeps['leadership']> },
): LeaderProxy {
  const { leadership } = deps;
  const self = deps.info.publicUrl;
  // Its own small app: Hono's request helpers and Marathon's error answers, apart from the
  // routes (the leader's requests pass it by without a middleware layer).
  const relay = new Hono({ getPath: routingPath });
  relay.onError((error, c) => respondToError({ error, c, logger: deps.logger }));
  // The leader's limits, here too: a follower buffers a body before relaying it, so without
  // them any client could make every follower hold a body of any size in memory.
  relay.on(WRITE_METHODS, '*', limitBodies(deps));
  relay.all('*', async (c) => {
    const leaderUrl = leadership.leaderUrl();
    if (!leaderUrl || leaderUrl === self) {
      throw new ApiError(ApiErrorCode.NO_LEADER, 'Could not determine the current leader');
    }
    const via = c.req.header(VIA_HEADER);
    if (via?.split(',').some((hop) => hop.trim() === self)) {
      throw new ApiError(ApiErrorCode.NO_LEADER, 'Detected proxying loop.');
    }
    const url = new URL(c.req.url);
    const target = `${leaderUrl.replace(/\/$/, '')}${url.pathname}${url.search}`;
    if (c.req.path === '/v2/events') return c.redirect(target, 307);
    const headers = new Headers(c.req.raw.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    headers.set(VIA_HEADER, via ? `${via}, ${self}` : self);
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    let answer: Response;
    try {
      answer = await fetch(target, {
        method: c.req.method,
        headers,
        body: hasBody ? await c.req.arrayBuffer() : undefined,
        redirect: 'manual',
        signal: c.req.raw.signal,
        ...(deps.relayDispatcher ? { dispatcher: deps.relayDispatcher } : {}),
      });
    } catch (error) {
      deps.logger.warn({ err: error, leaderUrl }, 'proxying to the leader failed');
      throw new ApiError(
        ApiErrorCode.NO_LEADER,
        `Could not reach the current leader at ${leaderUrl}`,
      );
    }
    const relayed = new Headers(answer.headers);
    for (const name of HOP_BY_HOP) relayed.delete(name);
    relayed.delete('content-encoding');
    relayed.set('X-Marathon-Leader', leaderUrl);
    return new Response(answer.body, { status: answer.status, headers: relayed });
  });
  return (request, env) => {
    if (leadership.isLeader() || isLocal(request.method, routingPath(request))) return undefined;
    return Promise.resolve(relay.fetch(request, env));
  };
}
