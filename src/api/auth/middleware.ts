// The authentication middleware: every request but a few open paths must prove a principal
// (401 with `WWW-Authenticate: Basic realm="pacer"` otherwise); the principal is set on the
// context before any route runs, and routes call `authorize`.
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { UnauthenticatedError } from '../../domain/index.js';
import type { Principal } from '../../domain/index.js';
import { setPrincipal } from '../authorize.js';
import { routingPath } from '../request.js';
import type { Authenticator } from './authenticator.js';

/** Marathon's 401 body and challenge. */
const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="pacer"' };
const UNAUTHENTICATED_BODY = { message: new UnauthenticatedError().message };

/** Artifact downloads by digest (`GET /v2/artifacts/sha256:<hex>[/<name>]`). */
const ARTIFACT_DOWNLOAD = /^\/v2\/artifacts\/sha256:[0-9a-f]{64}(?:\/[^/]+)?$/;

/**
 * Paths answered without credentials, matched on the path exactly as routing sees it:
 * - `/ping` (load balancers' health checks, as Marathon's `/ping`);
 * - `/openapi.json` and `/docs` (the API's description, the same for everyone, no data);
 * - artifact downloads by digest: agents fetch modules without API credentials, and a
 *   sha256 digest names content, not a place (the list `GET /v2/artifacts` needs credentials).
 */
export function isOpenPath(method: string, path: string): boolean {
  if (path === '/ping' || path === '/openapi.json' || path === '/docs') return true;
  if (path.startsWith('/docs/')) return method === 'GET' || method === 'HEAD';
  return (method === 'GET' || method === 'HEAD') && ARTIFACT_DOWNLOAD.test(path);
}

/** The Authorization header, read from Node's parsed headers when served by Node (no Headers object). */
function authorizationOf(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.headers) return incoming.headers.authorization;
  return c.req.header('authorization');
}

function unauthenticated(c: Context): Response {
  return c.json(UNAUTHENTICATED_BODY, 401, CHALLENGE);
}

/** Authenticates each request with `authenticator` and sets its principal. */
export function authentication(authenticator: Authenticator): MiddlewareHandler {
  return (c, next) => {
    if (isOpenPath(c.req.method, routingPath(c.req.raw))) return next();
    let proved: Principal | Promise<Principal>;
    try {
      proved = authenticator.authenticate(authorizationOf(c));
    } catch (error) {
      if (error instanceof UnauthenticatedError) return Promise.resolve(unauthenticated(c));
      throw error;
    }
    if (!(proved instanceof Promise)) {
      setPrincipal(c, proved);
      return next();
    }
    return proved.then(
      (principal) => {
        setPrincipal(c, principal);
        return next();
      },
      (error: unknown) => {
        if (error instanceof UnauthenticatedError) return unauthenticated(c);
        throw error;
      },
    );
  };
}
