// The authentication middleware: every request but a few open paths must prove a principal
// (401 with `WWW-Authenticate: Basic realm="pacer"` otherwise); the principal is set on the
// context before any route runs, and routes call `authorize`.
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { UnauthenticatedError } from '../../domain/index.js';
import type { Principal } from '../../domain/index.js';
import { principalOf, setPrincipal } from '../authorize.js';
import { routingPath } from '../request.js';
import type { Logger } from '../../lib/index.js';
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
 *   sha256 digest names content, not a place (the list `GET /v2/artifacts` needs credentials);
 * - `POST /v2/acl/agent-join`: an agent has no API credentials yet; its one-time join token,
 *   checked by the route, is the credential.
 */
export function isOpenPath(method: string, path: string): boolean {
  if (path === '/ping' || path === '/openapi.json' || path === '/docs') return true;
  if (path === '/v2/acl/agent-join') return method === 'POST';
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

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The audit line of a write: who changed what, and the answer. Marathon's events carry no
 * principal and strict clients refuse unknown fields, so the audit trail is this log line.
 */
async function audited(c: Context, options: { next: () => Promise<void>; logger: Logger }) {
  await options.next();
  options.logger.info(
    {
      audit: true,
      principal: principalOf(c).name,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
    },
    'api write',
  );
}

/**
 * Authenticates each request with `authenticator`, sets its principal, and writes an audit
 * line (`logger`) for each write.
 */
export function authentication(
  authenticator: Authenticator,
  options: { logger: Logger },
): MiddlewareHandler {
  const { logger } = options;
  const proceed = (c: Context, next: () => Promise<void>) =>
    READ_METHODS.has(c.req.method) ? next() : audited(c, { next, logger });
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
      return proceed(c, next);
    }
    return proved.then(
      (principal) => {
        setPrincipal(c, principal);
        return proceed(c, next);
      },
      (error: unknown) => {
        if (error instanceof UnauthenticatedError) return unauthenticated(c);
        throw error;
      },
    );
  };
}
