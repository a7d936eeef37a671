// Authorization at the HTTP edge: the authentication middleware puts the caller's principal on
// the request's context; every route calls `authorize` with the action and id it is about to act on.
import type { Context } from 'hono';
import { ANONYMOUS_ADMIN, ForbiddenError, isAllowed } from '../domain/index.js';
import type { Action, Principal } from '../domain/index.js';

const PRINCIPAL = 'principal' as never;

/** Called once per request by the authentication middleware, before any route runs. */
export function setPrincipal(c: Context, principal: Principal): void {
  c.set(PRINCIPAL, principal as never);
}

/**
 * The caller. Without an authentication middleware (authentication off) every caller is
 * `ANONYMOUS_ADMIN`; with one, it has set the principal or already answered 401.
 */
export function principalOf(c: Context): Principal {
  return (c.get(PRINCIPAL) as Principal | undefined) ?? ANONYMOUS_ADMIN;
}

/** Throws `ForbiddenError` (403) unless the caller may do `action` on `path`; returns the caller. */
export function authorize(c: Context, action: Action, path = '/'): Principal {
  const principal = principalOf(c);
  if (!isAllowed(principal, action, path)) throw new ForbiddenError();
  return principal;
}
