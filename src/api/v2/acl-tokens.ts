// /v2/acl/tokens (Pacer's own, admin only): create API tokens with grants (the secret is shown
// once), list them without secrets, and revoke them at once, open event streams included.
import { Hono } from 'hono';
import { Action, ConflictError, NotFoundError } from '../../domain/index.js';
import { hashSecret, newSecret } from '../auth/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { readJson } from '../request.js';
import { TokenRequestSchema } from './wire/acl-schemas.js';
import { parseWire } from './wire/violations.js';
import { nameOf } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { error, json } from '../route-docs.js';

/** The operations of `/v2/acl/tokens`: create, list and revoke API tokens. */
export const ACL_TOKENS_ROUTES = defineRoutes({
  createToken: {
    method: 'post',
    path: '/v2/acl/tokens',
    operationId: 'createToken',
    summary: 'Create an API token with grants (admin); the answer shows its secret once',
    tag: 'acl',
    body: { schema: 'TokenRequest' },
    answers: {
      '201': json('Created; `secret` is not shown again.', 'CreatedToken'),
      '400': error('Malformed JSON or wrong JSON types.'),
      '409': error('A token of that name exists.'),
      '422': error('Invalid name or grants (`details[].path` in Marathon syntax).'),
    },
  },
  listTokens: {
    method: 'get',
    path: '/v2/acl/tokens',
    operationId: 'listTokens',
    summary: 'API tokens and their grants, never their secrets (admin)',
    tag: 'acl',
    answers: { '200': json('The tokens.', 'TokenList') },
  },
  revokeToken: {
    method: 'delete',
    path: '/v2/acl/tokens/{name}',
    operationId: 'revokeToken',
    summary: 'Revoke a token at once, closing its open event streams (admin)',
    tag: 'acl',
    params: { name: nameOf('Token') },
    answers: { '200': json('Revoked.', 'RevokedToken'), '404': error('No such token.') },
  },
});

/** Routes of `/v2/acl/tokens`. */
export function aclTokensRoutes(deps: ApiDeps): Hono {
  const { store, logger } = deps;
  const routes = new Hono();

  on(routes, ACL_TOKENS_ROUTES.createToken, async (c) => {
    const caller = authorize(c, Action.ADMIN);
    const { name, grants } = parseWire(TokenRequestSchema, await readJson(c));
    const secret = newSecret(name);
    const created = await store.principals.create({
      name,
      secretHash: await hashSecret(secret),
      grants,
    });
    if (!created) throw new ConflictError(`A token named '${name}' already exists.`);
    logger.info({ audit: true, principal: caller.name, token: name, grants }, 'token created');
    return c.json({ name, secret, grants }, 201);
  });

  on(routes, ACL_TOKENS_ROUTES.listTokens, async (c) => {
    authorize(c, Action.ADMIN);
    const tokens = (await store.principals.list()).map(({ name, grants, createdAt }) => ({
      name,
      grants,
      createdAt,
    }));
    return c.json({ tokens });
  });

  on(routes, ACL_TOKENS_ROUTES.revokeToken, async (c) => {
    const caller = authorize(c, Action.ADMIN);
    const name = c.req.param('name') ?? '';
    if (!(await store.principals.delete(name))) {
      throw new NotFoundError(`Token '${name}' does not exist`);
    }
    // After the row is gone: a verification racing this one finds no principal to cache.
    deps.auth?.revoke(name);
    logger.info({ audit: true, principal: caller.name, token: name }, 'token revoked');
    return c.json({ name });
  });

  return routes;
}
