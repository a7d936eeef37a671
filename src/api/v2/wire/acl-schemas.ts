// Zod schemas of Pacer's tokens API (`/v2/acl/tokens`): the request that creates a token and
// the answers, which never hold a secret except the one `POST` shows once.
import { z } from 'zod';
import { Action, canonicalPath, isValidPathId } from '../../../domain/index.js';
import { PRINCIPAL_NAME } from '../../auth/index.js';
import { requestSchemas, responseSchemas } from '../../openapi/registry.js';

/** Grants one token may hold: enough for any team, bounded for every check that walks them. */
export const MAX_GRANTS = 100;

const ActionSchema = z.enum(Object.values(Action) as [Action, ...Action[]]);

const GrantSchema = z.object({
  path: z
    .string()
    .refine((path) => path.startsWith('/') && canonicalPath(path) === path && isValidPathId(path), {
      message: 'must be an absolute, canonical app or group id (e.g. /team-a)',
    })
    .describe('App or group id prefix: the grant covers this id and everything under it.'),
  actions: z
    .array(ActionSchema)
    .min(1)
    .refine((actions) => new Set(actions).size === actions.length, {
      message: 'must not repeat an action',
    }),
});

/** Body of `POST /v2/acl/tokens`. */
export const TokenRequestSchema = z
  .object({
    name: z.string().regex(PRINCIPAL_NAME, {
      message: 'must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
    }),
    grants: z.array(GrantSchema).max(MAX_GRANTS),
  })
  .register(requestSchemas, {
    id: 'TokenRequest',
    description: 'A new API token: its name and grants (`admin` covers every action).',
  });

/** A hostname as agents report it: printable, no spaces, at most 255 characters. */
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Body of `POST /v2/acl/agent-tokens`. */
export const AgentTokenRequestSchema = z
  .object({
    hostname: z.string().regex(HOSTNAME, {
      message: 'must be a hostname: letters, digits, ".", "_", "-"',
    }),
  })
  .register(requestSchemas, {
    id: 'AgentTokenRequest',
    description: 'The hostname of the agent that will join with the token.',
  });

const grants = z.array(z.object({ path: z.string(), actions: z.array(ActionSchema) }));

/** Answer of `POST /v2/acl/tokens`: the only time the secret is shown. */
export const CreatedTokenSchema = z
  .object({ name: z.string(), secret: z.string(), grants })
  .register(responseSchemas, {
    id: 'CreatedToken',
    description:
      'The token, with its secret: send it as `Authorization: Bearer <secret>`, `token=<secret>` ' +
      'or Basic with the name. It is shown once and stored only hashed.',
  });

/** Answer of `GET /v2/acl/tokens`. */
export const TokenListSchema = z
  .object({
    tokens: z.array(z.object({ name: z.string(), grants, createdAt: z.string() })),
  })
  .register(responseSchemas, { id: 'TokenList', description: 'Every token, without secrets.' });

/** Answer of `DELETE /v2/acl/tokens/{name}`. */
export const RevokedTokenSchema = z
  .object({ name: z.string() })
  .register(responseSchemas, { id: 'RevokedToken', description: 'The token revoked.' });
