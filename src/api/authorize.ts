// Authorization at the HTTP edge: authentication (auth/authenticate-request.ts) remembers the
// caller's principal for the request; every route calls `authorize` with the action and id it is
// about to act on.
import type { Context } from 'hono';
import { ANONYMOUS_ADMIN, ForbiddenError, isAllowed } from '../domain/index.js';
import type { Action, Principal } from '../domain/index.js';

/** What the edge adds to the request's `env` (Node's own env is kept beside it). */
interface AuthenticatedEnv {
  principal?: Principal;
}

/**
 * The `env` to dispatch an authenticated request with. On the env, not keyed by the Request:
 * Hono's body limit replaces `c.req.raw` with a new Request.
 */
export function withPrincipal(env: unknown, principal: Principal): AuthenticatedEnv {
  // @hono/node-server makes a fresh `{ incoming, outgoing }` for every request: set the principal
  // on it (no copy on the hot path). Any other env may be shared between requests: copy it.
  if (isNodeEnv(env)) {
    env.principal = principal;
    return env;
  }
  return { ...(env as object | undefined), principal };
}

function isNodeEnv(env: unknown): env is AuthenticatedEnv & { incoming: object } {
  return typeof env === 'object' && env !== null && 'incoming' in env && 'outgoing' in env;
}

/**
 * The caller. With authentication off every caller is `ANONYMOUS_ADMIN`; with it on, the edge
 * has put the principal on the env or already answered 401.
 */
export function principalOf(c: Context): Principal {
  return principalOfEnv(c.env);
}

/** `principalOf` for the `env` a request is dispatched with (the edge, before any route). */
export function principalOfEnv(env: unknown): Principal {
  return (env as AuthenticatedEnv | undefined)?.principal ?? ANONYMOUS_ADMIN;
}

/** Throws `ForbiddenError` (403) unless the caller may do `action` on `path`; returns the caller. */
export function authorize(c: Context, action: Action, path = '/'): Principal {
  const principal = principalOf(c);
  if (!isAllowed(principal, action, path)) throw new ForbiddenError();
  return principal;
}
