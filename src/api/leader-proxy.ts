// A follower master answers nothing itself: it forwards each request to the leader and relays
// the answer, as Marathon's LeaderProxyFilter does; the event stream is redirected instead.
import type { MiddlewareHandler } from 'hono';
import type { ApiDeps } from './deps.js';
import { ApiError, ApiErrorCode } from './errors.js';

/** Header naming the masters a request passed through, to stop proxy loops. */
export const VIA_HEADER = 'X-Marathon-Via';

/** Paths every master answers itself, leader or not. */
function isLocal(method: string, path: string): boolean {
  if (path === '/ping' || path.startsWith('/metrics')) return true;
  if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) return true;
  // Artifacts live in the shared store: agents may fetch them from any master.
  return method === 'GET' && path.startsWith('/v2/artifacts/');
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length'];

/** Forwards requests to the leader while this master follows (no-op without leader election). */
export function leaderProxy(deps: ApiDeps): MiddlewareHandler {
  const self = deps.info.publicUrl;
  return async (c, next) => {
    const leadership = deps.leadership;
    if (!leadership || leadership.isLeader() || isLocal(c.req.method, c.req.path)) return next();
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
  };
}
