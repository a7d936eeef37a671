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
import { defineRoutes, on } from '../route.js';
import type { PathParam } from '../route.js';
import { INVALID, error, json } from '../route-docs.js';

/** The secret's path from the route (checked by `SECRET_ID`); its id for grants is `/` + path. */
function pathOf(c: Context): string {
  return c.req.param('id') ?? '';
}

/** Routes of `/v2/secrets`. */
/** A secret path: one outside SECRET_PATH (a NUL byte included) answers 422. */
const SECRET_ID: PathParam = {
  description:
    'The secret path, e.g. `team-a/db-password` (may contain `/`); `/` + path is the id grants apply to.',
  match: '.+',
  check: (path) =>
    SECRET_PATH.test(path)
      ? undefined
      : new ValidationError([
          {
            path: '/path',
            errors: [
              'must be segments of letters, digits, _ - and . joined by /, at most 256 characters',
            ],
          },
        ]),
};

/** The operations of `/v2/secrets`. */
export const SECRETS_ROUTES = defineRoutes({
  listSecrets: {
    method: 'get',
    path: '/v2/secrets',
    operationId: 'listSecrets',
    summary: 'The secrets the caller may view: names and versions, never values',
    tag: 'pacer',
    answers: { '200': json('The secrets.', 'SecretList') },
  },
  putSecret: {
    method: 'put',
    path: '/v2/secrets/{id}',
    operationId: 'putSecret',
    summary: 'Write a secret value (sealed at rest; no route ever answers it)',
    tag: 'pacer',
    params: { id: SECRET_ID },
    body: { schema: 'SecretWrite' },
    answers: {
      '200': json('Replaced: the new version.', 'SecretVersion'),
      '201': json('Created: version 1.', 'SecretVersion'),
      ...INVALID,
      '403': error('No `create` (new) or `update` (existing) right on the path.'),
      '503': error('This master has no secrets key (`PACER_SECRETS_KEY_FILE`).'),
    },
  },
  deleteSecret: {
    method: 'delete',
    path: '/v2/secrets/{id}',
    operationId: 'deleteSecret',
    summary: 'Delete a secret',
    tag: 'pacer',
    params: { id: SECRET_ID },
    answers: {
      '204': { description: 'Deleted.' },
      '403': error('No `delete` right on the path.'),
      '404': error('No such secret.'),
      '422': error('Not a valid secret path.'),
    },
  },
});

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

  on(routes, SECRETS_ROUTES.listSecrets, async (c) => {
    const principal = principalOf(c);
    const all = await store.secrets.list();
    const visible = all.filter((s) => isAllowed(principal, Action.VIEW, `/${s.path}`));
    return c.json({ secrets: visible });
  });

  on(routes, SECRETS_ROUTES.putSecret, async (c) => {
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

  on(routes, SECRETS_ROUTES.deleteSecret, async (c) => {
    const path = pathOf(c);
    authorize(c, Action.DELETE, `/${path}`);
    if (!(await store.secrets.delete(path))) {
      throw new NotFoundError(`Secret '${path}' does not exist`);
    }
    return c.body(null, 204);
  });

  return routes;
}
