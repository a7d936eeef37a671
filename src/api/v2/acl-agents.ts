// /v2/acl/agent-tokens and /v2/acl/agent-join (Pacer's own): an admin makes a one-time join token
// for an agent; the agent exchanges it (no other credential) for its id and Redis user.
import { Hono } from 'hono';
import { Action, ValidationError } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { readJson } from '../request.js';
import { defineRoutes, on } from '../route.js';
import { parseWire } from './wire/violations.js';
import { AgentTokenRequestSchema } from './wire/acl-schemas.js';
import { error, media } from '../route-docs.js';

/** Join tokens are `pjt_` and 43 base64url characters; anything far longer is not one. */
const MAX_TOKEN_LENGTH = 256;

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

/** The operations of the agent join flow. */
export const ACL_AGENTS_ROUTES = defineRoutes({
  createAgentJoinToken: {
    method: 'post',
    path: '/v2/acl/agent-tokens',
    operationId: 'createAgentJoinToken',
    summary: 'A one-time join token for one agent, expiring (admin)',
    tag: 'pacer',
    body: { schema: 'AgentTokenRequest' },
    answers: {
      '201': media('The token, shown once.', 'application/json', {
        type: 'object',
        required: ['token'],
        properties: {
          token: { type: 'string' },
          hostname: { type: 'string' },
          expiresAt: { type: 'string' },
        },
      }),
      '422': error('Invalid hostname.'),
    },
  },
  joinAgent: {
    method: 'post',
    path: '/v2/acl/agent-join',
    operationId: 'joinAgent',
    summary:
      "An agent exchanges its join token (the request's only credential) for its id and Redis user",
    tag: 'pacer',
    isOpen: true,
    body: { media: 'application/json' },
    answers: {
      '200': media('The agent id and its Redis credentials, shown once.', 'application/json', {
        type: 'object',
        properties: {
          agentId: { type: 'string' },
          hostname: { type: 'string' },
          redisUsername: { type: 'string' },
          redisPassword: { type: 'string' },
        },
      }),
      '401': error('Unknown, used or expired token.'),
    },
  },
});

/** Routes of the agent join flow; absent without an agent identity (they answer 404 then). */
export function aclAgentRoutes(deps: ApiDeps): Hono {
  const routes = new Hono();
  const identity = deps.agentIdentity;
  if (!identity) return routes;

  on(routes, ACL_AGENTS_ROUTES.createAgentJoinToken, async (c) => {
    authorize(c, Action.ADMIN);
    const { hostname } = parseWire(AgentTokenRequestSchema, await readJson(c));
    const { token, expiresAt } = await identity.createJoinToken(hostname);
    return c.json({ token, hostname, expiresAt: new Date(expiresAt).toISOString() }, 201);
  });

  // Unauthenticated by design: the one-time token is the credential (authentication must let it by).
  on(routes, ACL_AGENTS_ROUTES.joinAgent, async (c) => {
    const token = field(await readJson(c), 'token');
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new ValidationError([{ path: '/token', errors: ['must be a join token'] }]);
    }
    return c.json(await identity.join(token));
  });

  return routes;
}
