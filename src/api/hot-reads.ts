// A lane past Hono for the hottest read, GET /v2/apps/{id} polled by dashboards and clients:
// a path the route answered before, asked again without a query, is answered with the body
// the route rendered in the current read snapshot (its memo), without routing, checking the
// path parameter, building a context or authorizing again. Only the route adds paths, so a path
// reaches this lane only after the router matched it to that route and its parameter passed its
// check (both depend on the path alone); the body is only one the route rendered in this very
// snapshot, so a write, a new snapshot or an unrendered app all go to the route as before. The
// answer is the same for every caller allowed to view the app (the caller authenticated before
// this lane); one who is not goes to the route, which answers 403.
import { Action, isAllowed } from '../domain/index.js';
import { principalOfEnv } from './authorize.js';
import type { ReadModel } from './read-model.js';
import { PathMemo } from './path-memo.js';
import { routingPathOf } from './request.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** How the route answered a path: the app it showed and its body's memo key in the snapshot. */
export interface HotRead {
  appId: string;
  key: string;
}

export interface HotReads {
  /** The route answered GET `path` (no query) with app `appId`'s body memoized as `key`. */
  remember(path: string, read: HotRead): void;
  /** The answer to `request` from the current snapshot; undefined: the route answers. */
  answer(request: Request, env: unknown): Response | undefined;
}

export function createHotReads(reads: Pick<ReadModel, 'current'>): HotReads {
  const known = new PathMemo<HotRead>();
  return {
    remember(path, read) {
      known.remember('GET', path, read);
    },
    answer(request, env) {
      if (request.method !== 'GET' || request.url.includes('?')) return undefined;
      const read = known.get('GET', routingPathOf(request, env));
      if (!read || !isAllowed(principalOfEnv(env), Action.VIEW, read.appId)) return undefined;
      const body = reads.current()?.rendered(read.key);
      // Exactly what the route answers (Hono's c.body with the same status and header).
      return typeof body === 'string'
        ? new Response(body, { status: 200, headers: JSON_HEADERS })
        : undefined;
    },
  };
}
