// /v2/apps/{id}/versions: the stored versions of an app and the App JSON at one of them.
import { Hono } from 'hono';
import { Action, canonicalPath } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { requireApp, unknownApp } from '../responses.js';
import { toAppJson } from './wire/app-json.js';
import { APP_ID, versionOf } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { NO_APP, error, json } from '../route-docs.js';

/** The operations of `/v2/apps/{id}/versions[/{version}]`. */
export const APP_VERSIONS_ROUTES = defineRoutes({
  getAppVersion: {
    method: 'get',
    path: '/v2/apps/{id}/versions/{version}',
    operationId: 'getAppVersion',
    summary: 'The app definition at one version',
    tag: 'apps',
    params: { id: APP_ID, version: versionOf('App') },
    answers: {
      '200': json('The definition.', 'AppDefinition'),
      '404': error('No such app or version.'),
    },
  },
  listAppVersions: {
    method: 'get',
    path: '/v2/apps/{id}/versions',
    operationId: 'listAppVersions',
    summary: 'Stored versions of an app, newest first',
    tag: 'apps',
    params: { id: APP_ID },
    answers: { '200': json('The versions.', 'VersionList'), ...NO_APP },
  },
});

/** Routes of `/v2/apps/{id}/versions[/{version}]`. */
export function appVersionsRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const routes = new Hono();

  on(routes, APP_VERSIONS_ROUTES.getAppVersion, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    const version = c.req.param('version') ?? '';
    authorize(c, Action.VIEW, id);
    await requireApp(store, id);
    const app = await store.apps.getVersion(id, version);
    if (!app) throw unknownApp(id, version);
    return c.json(toAppJson(app));
  });

  on(routes, APP_VERSIONS_ROUTES.listAppVersions, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    authorize(c, Action.VIEW, id);
    await requireApp(store, id);
    return c.json({ versions: await store.apps.versions(id) });
  });

  return routes;
}
