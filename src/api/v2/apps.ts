// /v2/apps: list, create, read, replace, patch, delete and restart apps (AppsResource.scala).
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { Action, ValidationError, canonicalPath } from '../../domain/index.js';
import type { AppChange, AppDefinition, DeploymentResult } from '../../domain/index.js';
import { canView, visibilityKey, visibleOnly } from '../auth/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { ApiDeps, RouteDeps } from '../deps.js';
import type { HotReads } from '../hot-reads.js';
import type { Snapshot } from '../read-model.js';
import { ApiError, ApiErrorCode } from '../errors.js';
import { queryAll, queryBoolean, readJson, routingPathOf } from '../request.js';
import { clientIp, deploymentResponse, requireApp, unknownApp } from '../responses.js';
import { toAppJson } from './wire/app-json.js';
import { parseEmbed, toAppInfo } from './wire/app-info.js';
import type { AppEmbed } from './wire/app-info.js';
import { normalizeApp } from './wire/app-normalize.js';
import type { AppRoleContext } from './wire/app-normalize.js';
import { appRoleContext, enforcingGroupsFor } from './group-roles.js';
import type { AppSpec } from '../../domain/index.js';
import type { AppFeatures } from './wire/app-features.js';
import { AppSchema } from './wire/app-schema.js';
import type { WireApp } from './wire/app-schema.js';
import { mergeAppUpdate } from './wire/app-update.js';
import { parseWire } from './wire/violations.js';
import { parseLabelSelector } from './label-selector.js';
import { APP_ID, APP_ID_TO_WRITE, GROUP_PREFIX } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import {
  EMBED,
  FORCE,
  INVALID,
  LOCKED,
  NO_APP,
  boolQuery,
  deployment,
  error,
  json,
  textQuery,
} from '../route-docs.js';
import { appFeaturesOf, checkAppSecrets } from './app-secrets.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

/** The AppInfo of each app, with counts, deployments and what `embed` asks for. */
export async function appInfos(
  snapshot: Snapshot,
  options: { apps: AppDefinition[]; embed: ReadonlySet<AppEmbed> },
): Promise<Record<string, unknown>[]> {
  const { apps, embed } = options;
  const failures = embed.has('lastTaskFailure')
    ? await Promise.all(apps.map((app) => snapshot.lastTaskFailure(app.id)))
    : [];
  return apps.map((app, index) =>
    toAppInfo(app, {
      instances: snapshot.instancesByApp.get(app.id) ?? [],
      deploymentIds: snapshot.deploymentIdsByApp.get(app.id) ?? [],
      embed,
      lastTaskFailure: failures[index],
    }),
  );
}

/** A full app from a body whose id is decided (`id`); throws Marathon's 400/422 when invalid. */
export function toSpec(
  wire: WireApp,
  options: { id: string; features: AppFeatures; roles: AppRoleContext },
): AppSpec {
  const result = normalizeApp(wire, options);
  if (!result.ok) throw new ValidationError(result.errors);
  return result.value;
}

function bodyId(wire: WireApp, path: string): string {
  if (wire.id === undefined || wire.id === '') {
    throw new ApiError(ApiErrorCode.JSON_READ, 'Invalid JSON', [
      { path, errors: ['error.path.missing'] },
    ]);
  }
  return canonicalPath(wire.id);
}

/**
 * `api_post_event` for each app a change stores, made by the orchestrator from the apps as stored
 * and stored in the change's own write (`AppChange.announce`), after its deployment's events.
 */
function apiPostEvents(c: Context): AppChange['announce'] {
  const ip = clientIp(c);
  const uri = new URL(c.req.url).pathname;
  return (stored) =>
    stored.map((app) => ({
      eventType: 'api_post_event',
      clientIp: ip,
      uri,
      appDefinition: toAppJson(app),
    }));
}

/** The spec a PUT or PATCH body asks for, given the current app (undefined when new). */
function updatedSpec(options: {
  current: AppDefinition | undefined;
  body: WireApp;
  id: string;
  isPartial: boolean;
  features: AppFeatures;
  /** Top-level groups that enforce their role (group-roles.ts). */
  enforcing: ReadonlySet<string>;
}): AppSpec {
  const { current, body, id, isPartial, features, enforcing } = options;
  const wire = current && isPartial ? mergeAppUpdate(current, body) : body;
  const roles = appRoleContext({ appId: id, enforcing, current });
  return toSpec({ ...wire, id }, { id, features, roles });
}

const VERSION_ONLY = "The 'version' field may only be combined with the 'id' field.";

/** A rollback body `{version}` (with an optional `id`): the spec of that stored version. */
async function rollbackSpec(deps: ApiDeps, options: { body: Record<string, unknown>; id: string }) {
  const { body, id } = options;
  const version = body.version;
  if (version === undefined) return undefined;
  if (Object.keys(body).some((key) => key !== 'id' && key !== 'version')) {
    throw new ValidationError([{ path: '/', errors: [VERSION_ONLY] }]);
  }
  if (typeof version !== 'string') {
    throw new ApiError(ApiErrorCode.JSON_READ, 'Invalid JSON', [
      { path: '/version', errors: ['error.expected.date.isoformat'] },
    ]);
  }
  const old = await deps.store.apps.getVersion(id, version);
  if (!old) throw unknownApp(id, version);
  const { version: _v, versionInfo: _vi, ...spec } = old;
  return spec;
}

/** `GET /v2/apps/{id}`: the app with every embed Marathon always adds, rendered once per snapshot. */
function oneApp(
  c: Context,
  options: { snapshot: Snapshot; id: string; embed: ReadonlySet<AppEmbed>; hot?: HotReads },
): Response | Promise<Response> {
  const { snapshot, id, embed, hot } = options;
  const app = snapshot.appById.get(id);
  if (!app) throw unknownApp(id);
  const memoKey = embed.size === 0 ? `GET ${id}` : `GET ${id} ${[...embed].sort().join()}`;
  const body = snapshot.memo(memoKey, async () => {
    const always: AppEmbed[] = ['tasks', 'counts', 'deployments', 'lastTaskFailure'];
    const info = toAppInfo(app, {
      instances: snapshot.instancesByApp.get(id) ?? [],
      deploymentIds: snapshot.deploymentIdsByApp.get(id) ?? [],
      embed: new Set([...embed, ...always]),
      lastTaskFailure: await snapshot.lastTaskFailure(id),
    });
    return JSON.stringify({ app: info });
  });
  // Asked without a query: the edge may answer this path from the snapshot's memo next time.
  if (hot && !c.req.url.includes('?'))
    hot.remember(routingPathOf(c.req.raw, c.env), { appId: id, key: memoKey });
  return body instanceof Promise
    ? body.then((text) => c.body(text, 200, JSON_TYPE))
    : c.body(body, 200, JSON_TYPE);
}

/** `GET /v2/apps/{group}/*`: every app under `prefix`, as `{"*": [...]}`. */
async function groupApps(
  c: Context,
  options: { reads: RouteDeps['reads']; prefix: string; embed: ReadonlySet<AppEmbed> },
): Promise<Response> {
  const { reads, prefix, embed } = options;
  const under = prefix === '/' ? '/' : `${prefix}/`;
  const snapshot = await reads.snapshot();
  const apps = visibleOnly(
    principalOf(c),
    snapshot.apps.filter((app) => app.id.startsWith(under)),
    (app) => [app.id],
  );
  return c.json({ '*': await appInfos(snapshot, { apps, embed }) });
}

/** The operations of `/v2/apps` and `/v2/apps/{id}`, in match order (sub-resources first). */
export const APPS_ROUTES = defineRoutes({
  listApps: {
    method: 'get',
    path: '/v2/apps',
    operationId: 'listApps',
    summary: 'List apps',
    tag: 'apps',
    query: [
      textQuery('cmd', 'Case-insensitive substring of `cmd`.'),
      textQuery('id', 'Case-insensitive substring of the id.'),
      textQuery(
        'label',
        'Label selector: `k`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, comma = AND.',
      ),
      EMBED,
    ],
    answers: { '200': json('The apps.', 'AppList'), '400': error('Bad label selector.') },
  },
  createApp: {
    method: 'post',
    path: '/v2/apps',
    operationId: 'createApp',
    summary: 'Create an app',
    tag: 'apps',
    query: [FORCE],
    body: { schema: 'App' },
    answers: {
      '201': {
        description: 'Created; `Location` names the app.',
        schema: 'AppInfo',
        isDeployment: true,
      },
      ...INVALID,
      '409': error('An app with this id exists, or a deployment locks it.'),
    },
  },
  updateApps: {
    method: 'put',
    path: '/v2/apps',
    operationId: 'updateApps',
    summary: 'Create or update several apps',
    tag: 'apps',
    query: [FORCE, boolQuery('partialUpdate', 'Merge into the current definitions.', true)],
    body: { schema: 'App', isArray: true },
    answers: { '200': deployment(), ...INVALID, ...LOCKED },
  },
  patchApps: {
    method: 'patch',
    path: '/v2/apps',
    operationId: 'patchApps',
    summary: 'Partially update several existing apps',
    tag: 'apps',
    query: [FORCE],
    body: { schema: 'App', isArray: true },
    answers: { '200': deployment(), ...INVALID, ...NO_APP, ...LOCKED },
  },
  restartApp: {
    method: 'post',
    path: '/v2/apps/{id}/restart',
    operationId: 'restartApp',
    summary: 'Rolling restart of every task',
    tag: 'apps',
    params: { id: APP_ID },
    query: [FORCE],
    answers: { '200': deployment(), ...NO_APP, ...LOCKED },
  },
  listAllAppsStar: {
    method: 'get',
    path: '/v2/apps/*',
    operationId: 'listAllAppsStar',
    summary: 'Every app, as `{"*": [AppInfo…]}`',
    tag: 'apps',
    query: [EMBED],
    answers: { '200': json('The apps.', 'GroupAppList') },
  },
  listGroupAppsStar: {
    method: 'get',
    path: '/v2/apps/{groupId}/*',
    operationId: 'listGroupAppsStar',
    summary: 'Every app under a group, as `{"*": [AppInfo…]}`',
    tag: 'apps',
    params: { groupId: GROUP_PREFIX },
    query: [EMBED],
    answers: { '200': json('The apps.', 'GroupAppList') },
  },
  getApp: {
    method: 'get',
    path: '/v2/apps/{id}',
    operationId: 'getApp',
    summary: 'One app with its tasks, counts, deployments and last failure',
    tag: 'apps',
    params: { id: APP_ID },
    query: [EMBED],
    answers: { '200': json('The app.', 'AppSingle'), ...NO_APP },
  },
  replaceApp: {
    method: 'put',
    path: '/v2/apps/{id}',
    operationId: 'replaceApp',
    summary: 'Update or create an app; a body of only `{"version"}` rolls back to it',
    tag: 'apps',
    params: { id: APP_ID_TO_WRITE },
    query: [FORCE, boolQuery('partialUpdate', 'Merge into the current definition.', true)],
    body: { schema: 'App' },
    answers: {
      '200': deployment('Updated.'),
      '201': deployment('Created; `Location` names the app.'),
      ...INVALID,
      '404': error('Unknown version in a rollback.'),
      ...LOCKED,
    },
  },
  patchApp: {
    method: 'patch',
    path: '/v2/apps/{id}',
    operationId: 'patchApp',
    summary: 'Partially update an existing app',
    tag: 'apps',
    params: { id: APP_ID },
    query: [FORCE],
    body: { schema: 'App' },
    answers: { '200': deployment(), ...INVALID, ...NO_APP, ...LOCKED },
  },
  deleteApp: {
    method: 'delete',
    path: '/v2/apps/{id}',
    operationId: 'deleteApp',
    summary: 'Destroy an app and kill its tasks',
    tag: 'apps',
    params: { id: APP_ID },
    query: [boolQuery('force', 'Override a running deployment.', true)],
    answers: { '200': deployment(), ...NO_APP, ...LOCKED },
  },
});

/** Routes of `/v2/apps` and `/v2/apps/{id}` (sub-resources live in app-tasks.ts, app-versions.ts). */
export function appsRoutes(deps: RouteDeps): Hono {
  const { store, orchestrator, reads } = deps;
  const features = appFeaturesOf(deps);
  const routes = new Hono();

  on(routes, APPS_ROUTES.listApps, async (c) => {
    const cmd = c.req.query('cmd')?.toLowerCase();
    const id = c.req.query('id')?.toLowerCase();
    const label = c.req.query('label');
    const matchesLabels = label ? parseLabelSelector(label) : undefined;
    const snapshot = await reads.snapshot();
    const principal = principalOf(c);
    const body = await snapshot.memo(`GET ${c.req.url}${visibilityKey(principal)}`, async () => {
      const apps = snapshot.apps.filter(
        (app) =>
          canView(principal, app.id) &&
          (cmd === undefined || (app.cmd ?? '').toLowerCase().includes(cmd)) &&
          (id === undefined || app.id.toLowerCase().includes(id)) &&
          (matchesLabels === undefined || matchesLabels(app.labels)),
      );
      const embed = parseEmbed(queryAll(c, 'embed'));
      return JSON.stringify({ apps: await appInfos(snapshot, { apps, embed }) });
    });
    return c.body(body, 200, JSON_TYPE);
  });

  on(routes, APPS_ROUTES.createApp, async (c) => {
    const wire = parseWire(AppSchema, await readJson(c));
    const id = bodyId(wire, '/id');
    authorize(c, Action.CREATE, id);
    const enforcing = await enforcingGroupsFor(deps, [id]);
    const wanted = toSpec(wire, { id, features, roles: appRoleContext({ appId: id, enforcing }) });
    await checkAppSecrets(c, deps, [wanted]);
    // Ports assigned here (the orchestrator's wrapper then finds none to assign): the answer
    // shows them without reading the stored app.
    // The orchestrator checks that the app is new (409) together with its locks, atomically.
    const { spec, result } = await deps.assignServicePorts([wanted], async ([spec = wanted]) => ({
      spec,
      result: await orchestrator.deploy(
        { apps: [spec], isCreation: true, announce: apiPostEvents(c) },
        { force: queryBoolean(c, 'force', false) },
      ),
    }));
    // A new app's versionInfo is its version twice, so the answer needs no second read.
    const stored = stampedFallback(spec, result);
    const info = toAppInfo(stored, {
      instances: [],
      deploymentIds: [result.deploymentId],
      embed: new Set(),
    });
    // Headers as a plain object: set with c.header, they cost each answer a WHATWG Headers object
    // (Hono's) that Node's adapter then copies out again.
    return new Response(JSON.stringify(info), {
      status: 201,
      headers: { ...JSON_TYPE, Location: id, 'Marathon-Deployment-Id': result.deploymentId },
    });
  });

  on(routes, APPS_ROUTES.updateApps, async (c) => {
    const bodies = parseWire(z.array(AppSchema), await readJson(c));
    const isPartial = queryBoolean(c, 'partialUpdate', true);
    const specs: AppSpec[] = [];
    const ids = bodies.map((body, index) => bodyId(body, `(${index})/id`));
    const enforcing = await enforcingGroupsFor(deps, ids);
    for (const [index, body] of bodies.entries()) {
      const id = ids[index] ?? '';
      const current = await store.apps.get(id);
      authorize(c, current ? Action.UPDATE : Action.CREATE, id);
      specs.push(updatedSpec({ current, body, id, isPartial, features, enforcing }));
    }
    await checkAppSecrets(c, deps, specs);
    const result = await orchestrator.deploy(
      { apps: specs, announce: apiPostEvents(c) },
      { force: queryBoolean(c, 'force', false) },
    );
    return deploymentResponse(c, result);
  });

  on(routes, APPS_ROUTES.patchApps, async (c) => {
    const bodies = parseWire(z.array(AppSchema), await readJson(c));
    const specs: AppSpec[] = [];
    const ids = bodies.map((body, index) => bodyId(body, `(${index})/id`));
    const enforcing = await enforcingGroupsFor(deps, ids);
    for (const [index, body] of bodies.entries()) {
      const id = ids[index] ?? '';
      authorize(c, Action.UPDATE, id);
      const current = await requireApp(store, id);
      specs.push(updatedSpec({ current, body, id, isPartial: true, features, enforcing }));
    }
    await checkAppSecrets(c, deps, specs);
    const result = await orchestrator.deploy(
      { apps: specs, announce: apiPostEvents(c) },
      { force: queryBoolean(c, 'force', false) },
    );
    return deploymentResponse(c, result);
  });

  on(routes, APPS_ROUTES.restartApp, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    authorize(c, Action.UPDATE, id);
    await requireApp(store, id);
    const result = await orchestrator.deploy(
      { apps: [], restart: [id] },
      { force: queryBoolean(c, 'force', false) },
    );
    return deploymentResponse(c, result);
  });

  // Synchronous when the snapshot and the rendered answer are in memory: the hot read of
  // dashboards and clients polling one app then costs no promise.
  on(routes, APPS_ROUTES.listAllAppsStar, (c) =>
    groupApps(c, { reads, prefix: '/', embed: parseEmbed(queryAll(c, 'embed')) }),
  );
  on(routes, APPS_ROUTES.listGroupAppsStar, (c) => {
    const prefix = canonicalPath(c.req.param('groupId') ?? '');
    return groupApps(c, { reads, prefix, embed: parseEmbed(queryAll(c, 'embed')) });
  });

  on(routes, APPS_ROUTES.getApp, (c): Response | Promise<Response> => {
    const embed = parseEmbed(queryAll(c, 'embed'));
    const id = canonicalPath(c.req.param('id') ?? '');
    // Before the lookup: a 403 does not tell whether the app exists.
    authorize(c, Action.VIEW, id);
    const snapshot = reads.current();
    const { hotReads: hot } = deps;
    if (!snapshot)
      return reads.snapshot().then((loaded) => oneApp(c, { snapshot: loaded, id, embed, hot }));
    return oneApp(c, { snapshot, id, embed, hot });
  });

  on(routes, APPS_ROUTES.replaceApp, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    const json = await readJson(c);
    const current = await store.apps.get(id);
    authorize(c, current ? Action.UPDATE : Action.CREATE, id);
    const force = queryBoolean(c, 'force', false);
    const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
    const rollback = isObject
      ? await rollbackSpec(deps, { body: json as Record<string, unknown>, id })
      : undefined;
    const spec =
      rollback ??
      updatedSpec({
        current,
        body: parseWire(AppSchema, json),
        id,
        isPartial: queryBoolean(c, 'partialUpdate', true),
        features,
        enforcing: await enforcingGroupsFor(deps, [id]),
      });
    await checkAppSecrets(c, deps, [spec]);
    const result = await orchestrator.deploy(
      { apps: [spec], announce: apiPostEvents(c) },
      { force },
    );
    if (current) return deploymentResponse(c, result);
    c.header('Location', id);
    return deploymentResponse(c, result, 201);
  });

  on(routes, APPS_ROUTES.patchApp, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    authorize(c, Action.UPDATE, id);
    const body = parseWire(AppSchema, await readJson(c));
    const current = await requireApp(store, id);
    const enforcing = await enforcingGroupsFor(deps, [id]);
    const spec = updatedSpec({ current, body, id, isPartial: true, features, enforcing });
    await checkAppSecrets(c, deps, [spec]);
    const result = await orchestrator.deploy(
      { apps: [spec], announce: apiPostEvents(c) },
      { force: queryBoolean(c, 'force', false) },
    );
    return deploymentResponse(c, result);
  });

  on(routes, APPS_ROUTES.deleteApp, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    authorize(c, Action.DELETE, id);
    await requireApp(store, id);
    // COMPAT: Marathon's code defaults `force` to true here (its RAML says false).
    const result = await orchestrator.deploy(
      { apps: [], remove: [id] },
      { force: queryBoolean(c, 'force', true) },
    );
    return deploymentResponse(c, result);
  });

  return routes;
}

/** A created app as stored: the spec at the new version (config and scaling both new). */
function stampedFallback(spec: AppSpec, result: DeploymentResult): AppDefinition {
  return {
    ...spec,
    version: result.version,
    versionInfo: { lastScalingAt: result.version, lastConfigChangeAt: result.version },
  };
}
