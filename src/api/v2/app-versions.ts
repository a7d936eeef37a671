// /v2/apps/{id}/versions: the stored versions of an app and the App JSON at one of them.
import { Hono } from 'hono';
import { Action, canonicalPath } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { requireApp, unknownApp } from '../responses.js';
import { toAppJson } from './wire/app-json.js';

/** Routes of `/v2/apps/{id}/versions[/{version}]`. */
export function appVersionsRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const routes = new Hono();

  routes.get('/v2/apps/:id{.+}/versions/:version', async (c) => {
    const id = canonicalPath(c.req.param('id'));
    const version = c.req.param('version');
    authorize(c, Action.VIEW, id);
    await requireApp(store, id);
    const app = await store.apps.getVersion(id, version);
    if (!app) throw unknownApp(id, version);
    return c.json(toAppJson(app));
  });

  routes.get('/v2/apps/:id{.+}/versions', async (c) => {
    const id = canonicalPath(c.req.param('id'));
    authorize(c, Action.VIEW, id);
    await requireApp(store, id);
    return c.json({ versions: await store.apps.versions(id) });
  });

  return routes;
}
