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

/** Routes of `/v2/acl/tokens`. */
export function aclTokensRoutes(deps: ApiDeps): Hono {
  const { store, logger } = deps;
  const routes = new Hono();

  routes.post('/v2/acl/tokens', async (c) => {
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

  routes.get('/v2/acl/tokens', async (c) => {
    authorize(c, Action.ADMIN);
    const tokens = (await store.principals.list()).map(({ name, grants, createdAt }) => ({
      name,
      grants,
      createdAt,
    }));
    return c.json({ tokens });
  });

  routes.delete('/v2/acl/tokens/:name', async (c) => {
    const caller = authorize(c, Action.ADMIN);
    const name = c.req.param('name');
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
