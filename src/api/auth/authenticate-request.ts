// Authentication at the HTTP edge, around the app's `fetch` (api/server.ts) and before a
// follower's relay to the leader, not as a Hono middleware: a middleware makes Hono compose a
// chain for every route, and the hot read (GET /v2/apps/{id}) then no longer answers in the
// request's own turn of the event loop. Every request but a few open paths must prove a
// principal (401 with `WWW-Authenticate: Basic realm="pacer"` otherwise); routes read it with
// `principalOf` and call `authorize`.
import type { IncomingMessage } from 'node:http';
import { UnauthenticatedError } from '../../domain/index.js';
import type { Principal } from '../../domain/index.js';
import type { Logger } from '../../lib/index.js';
import { withPrincipal } from '../authorize.js';
import { toErrorResponse } from '../errors.js';
import { routingPathOf } from '../request.js';
import type { Authenticator } from './authenticator.js';

/** Marathon's 401 body and challenge. */
const UNAUTHENTICATED_BODY = JSON.stringify({ message: new UnauthenticatedError().message });
const CHALLENGE_HEADERS = {
  'Content-Type': 'application/json',
  'WWW-Authenticate': 'Basic realm="pacer"',
};

/** Artifact downloads by digest (`GET /v2/artifacts/sha256:<hex>[/<name>]`). */
const ARTIFACT_PREFIX = '/v2/artifacts/sha256:';
const ARTIFACT_DOWNLOAD = /^\/v2\/artifacts\/sha256:[0-9a-f]{64}(?:\/[^/]+)?$/;

/**
 * Paths answered without credentials, matched on the path exactly as routing sees it:
 * - `/ping` (load balancers' health checks, as Marathon's `/ping`);
 * - `/openapi.json` and `/docs` (the API's description, the same for everyone, no data);
 * - `/`, `/ui` and its assets (the web UI's code, no data: it asks for a token to call the API);
 * - artifact downloads by digest: agents fetch modules without API credentials, and a
 *   sha256 digest names content, not a place (the list `GET /v2/artifacts` needs credentials);
 * - `POST /v2/acl/agent-join`: an agent has no API credentials yet; its one-time join token,
 *   checked by the route, is the credential.
 */
export function isOpenPath(method: string, path: string): boolean {
  if (path === '/ping' || path === '/openapi.json' || path === '/docs') return true;
  if (path === '/v2/acl/agent-join') return method === 'POST';
  if (path.startsWith('/docs/')) return method === 'GET' || method === 'HEAD';
  if (path === '/' || path === '/ui' || path.startsWith('/ui/'))
    return method === 'GET' || method === 'HEAD';
  // The prefix test first: every authenticated GET passes here, and most are not downloads.
  return (
    (method === 'GET' || method === 'HEAD') &&
    path.startsWith(ARTIFACT_PREFIX) &&
    ARTIFACT_DOWNLOAD.test(path)
  );
}

/** Answers the request as the app would, synchronously where it can. */
export type Dispatch = (request: Request, env: unknown) => Response | Promise<Response>;

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The Authorization header. Served by Node, it is found in the raw header list: Node builds
 * `incoming.headers` (every header, lower-cased) on first access, a cost the unauthenticated
 * path never pays. The first one counts, as in `incoming.headers`.
 */
function authorizationOf(request: Request, env: unknown): string | undefined {
  const raw = (env as { incoming?: IncomingMessage } | undefined)?.incoming?.rawHeaders;
  if (!raw) return request.headers.get('authorization') ?? undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') return raw[i + 1];
  }
  return undefined;
}

/**
 * A script's request (`X-Requested-With: XMLHttpRequest`, as the web UI sends): 401 without the
 * Basic challenge, which would make the browser open its own login prompt instead of letting
 * the page ask for a token (Spring Security's convention).
 */
const SCRIPT_401_HEADERS = { 'Content-Type': 'application/json' };

function refusal(error: unknown, request: Request): Response {
  if (error instanceof UnauthenticatedError) {
    const isScript = request.headers.get('x-requested-with') === 'XMLHttpRequest';
    return new Response(UNAUTHENTICATED_BODY, {
      status: 401,
      headers: isScript ? SCRIPT_401_HEADERS : CHALLENGE_HEADERS,
    });
  }
  // Too many verifications waiting (503), or a store that failed: Marathon's error body.
  const { status, body } = toErrorResponse(error);
  return Response.json(body, { status });
}

/**
 * Wraps `dispatch`: authenticates each request with `authenticator`, remembers its principal for
 * the routes, and writes an audit line (`logger`) for each write: Marathon's events carry no
 * principal and strict clients refuse unknown fields, so the audit trail is this log line.
 */
export function authenticateRequests(
  authenticator: Authenticator,
  options: { logger: Logger; dispatch: Dispatch },
): Dispatch {
  const { logger, dispatch } = options;
  function run(request: Request, env: unknown, principal: Principal) {
    const answer = dispatch(request, withPrincipal(env, principal));
    if (READ_METHODS.has(request.method)) return answer;
    return Promise.resolve(answer).then((response) => {
      logger.info(
        {
          audit: true,
          principal: principal.name,
          method: request.method,
          path: routingPathOf(request, env),
          status: response.status,
        },
        'api write',
      );
      return response;
    });
  }
  return (request, env) => {
    if (isOpenPath(request.method, routingPathOf(request, env))) return dispatch(request, env);
    let proved: Principal | Promise<Principal>;
    try {
      proved = authenticator.authenticate(authorizationOf(request, env));
    } catch (error) {
      return refusal(error, request);
    }
    if (!(proved instanceof Promise)) return run(request, env, proved);
    return proved.then(
      (principal) => run(request, env, principal),
      (error: unknown) => refusal(error, request),
    );
  };
}
