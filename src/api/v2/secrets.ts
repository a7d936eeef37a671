// /v2/secrets (Pacer's own): secret values are written here, sealed at rest, and listed by name
// and version only. No route answers a value: the master opens one only to launch a task.
import { Hono } from 'hono';
import type { Context } from 'hono';
import {
  Action,
  NotFoundError,
  UnavailableError,
  ValidationError,
  isAllowed,
} from '../../domain/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { readJson } from '../request.js';
import { parseWire } from './wire/violations.js';
import { MAX_SECRET_BYTES, SECRET_PATH, SecretWriteSchema } from './wire/secret-schemas.js';

/** The secret's path from the route, checked; its id for grants is `/` + path. */
function pathOf(c: Context): string {
  const path = c.req.param('path') ?? '';
  if (!SECRET_PATH.test(path)) {
    throw new ValidationError([
      {
        path: '/path',
        errors: [
          'must be segments of letters, digits, _ - and . joined by /, at most 256 characters',
        ],
      },
    ]);
  }
  return path;
}

/** Routes of `/v2/secrets`. */
export function secretsRoutes(deps: ApiDeps): Hono {
  const { store, secretBox } = deps;
  const routes = new Hono();
  const box = () => {
    if (!secretBox) {
      throw new UnavailableError(
        'This master has no secrets key: set PACER_SECRETS_KEY_FILE to use secrets',
      );
    }
    return secretBox;
  };

  routes.get('/v2/secrets', async (c) => {
    const principal = principalOf(c);
    const all = await store.secrets.list();
    const visible = all.filter((s) => isAllowed(principal, Action.VIEW, `/${s.path}`));
    return c.json({ secrets: visible });
  });

  routes.put('/v2/secrets/:path{.+}', async (c) => {
    const path = pathOf(c);
    const exists = (await store.secrets.get(path)) !== undefined;
    authorize(c, exists ? Action.UPDATE : Action.CREATE, `/${path}`);
    const { value } = parseWire(SecretWriteSchema, await readJson(c));
    if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) {
      throw new ValidationError([
        { path: '/value', errors: [`must be at most ${MAX_SECRET_BYTES} bytes`] },
      ]);
    }
    const meta = await store.secrets.put(path, box().seal(path, value));
    return c.json({ path, version: meta.version }, meta.version === 1 ? 201 : 200);
  });

  routes.delete('/v2/secrets/:path{.+}', async (c) => {
    const path = pathOf(c);
    authorize(c, Action.DELETE, `/${path}`);
    if (!(await store.secrets.delete(path))) {
      throw new NotFoundError(`Secret '${path}' does not exist`);
    }
    return c.body(null, 204);
  });

  return routes;
}
