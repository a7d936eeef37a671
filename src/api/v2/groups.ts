// /v2/groups: the group tree implied by app ids, and changes to whole groups (GroupsResource).
// A group exists while an app lives under it; Pacer keeps a record of its own only for a
// top-level group that enforces its role (`enforceRole`), which exists even with no app.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { computePlan } from '../../deployment/plan.js';
import {
  Action,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  canonicalPath,
  enforcingGroupIds,
  toTimestamp,
} from '../../domain/index.js';
import type { AppDefinition, Principal } from '../../domain/index.js';
import { systemClock } from '../../lib/index.js';
import { canView } from '../auth/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { RouteDeps } from '../deps.js';
import { queryAll, queryBoolean, readJson } from '../request.js';
import { deploymentResponse } from '../responses.js';
import { appInfos } from './apps.js';
import { appFeaturesOf, checkAppSecrets } from './app-secrets.js';
import { checkOnlyOptions, groupChange } from './group-update.js';
import { toAppJson } from './wire/app-json.js';
import { parseEmbed } from './wire/app-info.js';
import type { AppSpec } from '../../domain/index.js';
import { isUnder, parseGroupEmbed, toGroupInfo } from './wire/group-json.js';
import { GroupPartialUpdateSchema, GroupUpdateSchema } from './wire/group-schema.js';
import { checkPathId } from './wire/app-normalize.js';
import { parseWire } from './wire/violations.js';
import { GROUP_ID, GROUP_ID_TO_WRITE, versionOf } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import type { RouteSpec } from '../route.js';
import {
  FORCE,
  GROUP_EMBED,
  INVALID,
  LOCKED,
  NO_GROUP,
  boolQuery,
  deployment,
  error,
  json,
} from '../route-docs.js';

const specOf = ({ version: _v, versionInfo: _vi, ...spec }: AppDefinition): AppSpec => spec;

/** The operations of `/v2/groups`, in match order (sub-resources first). */
export const GROUPS_ROUTES = defineRoutes({
  listRootGroupVersions: {
    method: 'get',
    path: '/v2/groups/versions',
    operationId: 'listRootGroupVersions',
    summary: 'Versions of the root group',
    tag: 'groups',
    answers: { '200': json('The versions, newest first.', 'TimestampArray') },
  },
  getGroupVersion: {
    method: 'get',
    path: '/v2/groups/{id}/versions/{version}',
    operationId: 'getGroupVersion',
    summary: 'A group as it was at a version',
    tag: 'groups',
    params: { id: GROUP_ID, version: versionOf('Group') },
    answers: { '200': json('The group.', 'Group'), ...NO_GROUP },
  },
  listGroupVersions: {
    method: 'get',
    path: '/v2/groups/{id}/versions',
    operationId: 'listGroupVersions',
    summary: 'Versions of a group (those of the apps under it)',
    tag: 'groups',
    params: { id: GROUP_ID },
    answers: { '200': json('The versions, newest first.', 'TimestampArray'), ...NO_GROUP },
  },
  listGroupApps: {
    method: 'get',
    path: '/v2/groups/{id}/apps',
    operationId: 'listGroupApps',
    summary: 'The apps directly in a group',
    tag: 'groups',
    params: { id: GROUP_ID },
    query: [GROUP_EMBED],
    answers: { '200': json('The apps.', 'AppInfoArray'), ...NO_GROUP },
  },
  getGroupRoot: { ...getGroup('/v2/groups', 'getGroupRoot') },
  getGroup: { ...getGroup('/v2/groups/{id}', 'getGroup'), params: { id: GROUP_ID } },
  createGroupRoot: { ...createGroup('/v2/groups', 'createGroupRoot') },
  createGroup: {
    ...createGroup('/v2/groups/{id}', 'createGroup'),
    params: { id: GROUP_ID_TO_WRITE },
  },
  updateGroupRoot: { ...updateGroup('/v2/groups', 'updateGroupRoot') },
  updateGroup: {
    ...updateGroup('/v2/groups/{id}', 'updateGroup'),
    params: { id: GROUP_ID_TO_WRITE },
  },
  patchGroup: {
    method: 'patch',
    path: '/v2/groups/{id}',
    operationId: 'patchGroup',
    summary: 'Change `enforceRole` of a top-level group (no deployment)',
    tag: 'groups',
    params: { id: GROUP_ID },
    body: { schema: 'GroupPartialUpdate' },
    answers: { '200': { description: 'Done (empty body, as Marathon).' }, ...INVALID, ...NO_GROUP },
  },
  deleteGroupRoot: { ...deleteGroup('/v2/groups', 'deleteGroupRoot') },
  deleteGroup: { ...deleteGroup('/v2/groups/{id}', 'deleteGroup'), params: { id: GROUP_ID } },
});

function getGroup(path: string, operationId: string): RouteSpec {
  return {
    method: 'get',
    path,
    operationId,
    summary: 'A group tree with its apps',
    tag: 'groups',
    query: [GROUP_EMBED],
    answers: { '200': json('The group.', 'GroupInfo'), ...NO_GROUP },
  };
}

function createGroup(path: string, operationId: string): RouteSpec {
  return {
    method: 'post',
    path,
    operationId,
    summary: 'Create a group with its apps',
    tag: 'groups',
    query: [FORCE],
    body: { schema: 'GroupUpdate' },
    answers: {
      '201': deployment('Created; `Location` names the group.'),
      ...INVALID,
      '409': error('The group or an app with its path exists.'),
    },
  };
}

function updateGroup(path: string, operationId: string): RouteSpec {
  return {
    method: 'put',
    path,
    operationId,
    summary: 'Update or create a group; `{"version"}` rolls back, `{"scaleBy"}` scales',
    tag: 'groups',
    query: [FORCE, boolQuery('dryRun', 'Only answer the plan (`{"steps"}`).', false)],
    body: { schema: 'GroupUpdate' },
    answers: {
      '200': {
        description: 'The deployment, or with `dryRun` the steps.',
        schema: 'GroupUpdateResult',
        isDeployment: true,
      },
      ...INVALID,
      ...NO_GROUP,
      ...LOCKED,
    },
  };
}

function deleteGroup(path: string, operationId: string): RouteSpec {
  return {
    method: 'delete',
    path,
    operationId,
    summary: 'Remove a group and everything under it',
    tag: 'groups',
    query: [FORCE],
    answers: { '200': deployment(), ...NO_GROUP, ...LOCKED },
  };
}

/** Routes of `/v2/groups`. */
export function groupsRoutes(deps: RouteDeps): Hono {
  const { store, orchestrator, reads } = deps;
  const clock = deps.clock ?? systemClock;
  const routes = new Hono();
  const groupIdOf = (c: Context) => canonicalPath(c.req.param('id') ?? '/');
  const appsUnder = async (groupId: string) =>
    (await store.apps.list()).filter((app) => isUnder(app.id, groupId));
  const enforcingGroups = async () => enforcingGroupIds(await store.groups.list());

  /** The apps under a group that exists (apps under it, or its own record); 404 otherwise. */
  async function requireGroup(groupId: string): Promise<AppDefinition[]> {
    const apps = await appsUnder(groupId);
    if (groupId !== '/' && apps.length === 0 && !(await enforcingGroups()).has(groupId)) {
      throw new NotFoundError(`Group '${groupId}' does not exist`);
    }
    return apps;
  }

  /** The apps of a group as they were at `version` (apps created later are left out). */
  async function appsAt(groupId: string, version: string): Promise<AppDefinition[]> {
    const out: AppDefinition[] = [];
    for (const app of await requireGroup(groupId)) {
      const older = (await store.apps.versions(app.id)).find((v) => v <= version);
      const old = older && (await store.apps.getVersion(app.id, older));
      if (old) out.push(old);
    }
    return out;
  }

  async function versionsOf(groupId: string): Promise<string[]> {
    const all = new Set<string>();
    for (const app of await requireGroup(groupId)) {
      for (const v of await store.apps.versions(app.id)) all.add(v);
    }
    return [...all].sort().reverse();
  }

  /**
   * Apps under a group that `principal` may view, as reads see them (the shared snapshot); 404
   * for a missing group, 403 for a group the caller may not view and sees nothing under (the
   * same whether it exists or not). The root is always shown, filtered, as Marathon does.
   */
  async function readGroup(groupId: string, principal: Principal) {
    const [snapshot, enforcing] = await Promise.all([reads.snapshot(), enforcingGroups()]);
    const apps = snapshot.apps.filter(
      (app) => isUnder(app.id, groupId) && canView(principal, app.id),
    );
    const visible = new Set([...enforcing].filter((id) => canView(principal, id)));
    if (groupId !== '/' && apps.length === 0 && !visible.has(groupId)) {
      if (!canView(principal, groupId)) throw new ForbiddenError();
      throw new NotFoundError(`Group '${groupId}' does not exist`);
    }
    return { snapshot, apps, enforcing: visible };
  }

  /** Refuses (403) a change the caller may not make to any app it creates, replaces or removes. */
  async function authorizeChange(
    c: Context,
    options: {
      apps: Pick<AppSpec, 'id' | 'secrets'>[];
      remove: string[];
      current: AppDefinition[];
    },
  ): Promise<void> {
    const existing = new Set(options.current.map((app) => app.id));
    for (const app of options.apps) {
      authorize(c, existing.has(app.id) ? Action.UPDATE : Action.CREATE, app.id);
    }
    for (const id of options.remove) authorize(c, Action.DELETE, id);
    await checkAppSecrets(c, deps, options.apps);
  }

  async function getGroup(c: Context, groupId: string) {
    const { snapshot, apps, enforcing } = await readGroup(groupId, principalOf(c));
    const embedValues = queryAll(c, 'embed');
    const infos = await appInfos(snapshot, { apps, embed: parseEmbed(embedValues) });
    const byId = new Map(apps.map((app, i) => [app.id, infos[i] ?? {}]));
    return c.json(
      toGroupInfo({
        groupId,
        apps,
        embed: parseGroupEmbed(embedValues),
        appInfo: (app) => byId.get(app.id) ?? {},
        fallbackVersion: toTimestamp(clock.now()),
        enforcing,
      }),
    );
  }

  /** Creates or updates a group from a body; `isCreate` refuses an existing group (POST). */
  async function changeGroup(c: Context, options: { groupId: string; isCreate: boolean }) {
    const force = queryBoolean(c, 'force', false);
    const update = parseWire(GroupUpdateSchema, await readJson(c));
    const groupId = canonicalPath(update.id ?? '', options.groupId);
    authorize(c, options.isCreate ? Action.CREATE : Action.UPDATE, groupId);
    const violations: { path: string; errors: string[] }[] = [];
    if (update.id !== undefined && groupId !== '/') checkPathId(groupId, '/id', violations);
    const current = await appsUnder(groupId);
    const enforcing = await enforcingGroups();
    if (options.isCreate) {
      if (await store.apps.get(groupId)) {
        throw new ConflictError(`An app with the path ${groupId} already exists.`);
      }
      if (current.length > 0 || enforcing.has(groupId)) {
        throw new ConflictError(
          `Group ${groupId} is already created. Use PUT to change this group.`,
        );
      }
    }
    checkOnlyOptions(update, { prefix: '', violations });
    if (update.version !== undefined || update.scaleBy !== undefined) {
      if (violations.length > 0) throw new ValidationError(violations);
      await requireGroup(groupId);
      const apps =
        update.version !== undefined
          ? await appsAt(groupId, update.version)
          : current.map((app) => ({
              ...app,
              instances: Math.ceil(app.instances * (update.scaleBy ?? 1)),
            }));
      const kept = new Set(apps.map((a) => a.id));
      const remove = current.filter((a) => !kept.has(a.id)).map((a) => a.id);
      await authorizeChange(c, { apps, remove, current });
      const result = await orchestrator.deploy({ apps: apps.map(specOf), remove }, { force });
      return deploymentResponse(c, result);
    }
    const existing = new Set(enforcing);
    for (const app of current) existing.add(`/${app.id.split('/')[1] ?? ''}`);
    const change = groupChange({
      update,
      groupId,
      current,
      features: appFeaturesOf(deps),
      enforcing,
      existing,
    });
    violations.push(...change.violations);
    if (violations.length > 0) throw new ValidationError(violations);
    await authorizeChange(c, { apps: change.apps, remove: change.remove, current });
    if (!options.isCreate && queryBoolean(c, 'dryRun', false)) {
      const stamp = toTimestamp(clock.now());
      const removed = new Set(change.remove);
      const changed = new Set(change.apps.map((a) => a.id));
      const target = [
        ...current.filter((app) => !removed.has(app.id) && !changed.has(app.id)),
        ...change.apps.map((spec) => ({
          ...spec,
          version: stamp,
          versionInfo: { lastScalingAt: stamp, lastConfigChangeAt: stamp },
        })),
      ];
      return c.json({ steps: computePlan({ original: current, target }) });
    }
    const result = await orchestrator.deploy(
      {
        apps: change.apps,
        remove: change.remove,
        ...(change.groups.length > 0 ? { groups: change.groups } : {}),
      },
      { force },
    );
    if (!options.isCreate) return deploymentResponse(c, result);
    c.header('Location', groupId);
    return deploymentResponse(c, result, 201);
  }

  async function deleteGroup(c: Context, groupId: string) {
    authorize(c, Action.DELETE, groupId);
    const apps = await requireGroup(groupId);
    // The records of the group, or of every top-level group when the root goes, go with it.
    const records = [...(await enforcingGroups())]
      .filter((id) => groupId === '/' || id === groupId)
      .map((id) => ({ id, enforceRole: false }));
    const result = await orchestrator.deploy(
      {
        apps: [],
        remove: apps.map((a) => a.id),
        ...(records.length > 0 ? { groups: records } : {}),
      },
      { force: queryBoolean(c, 'force', false) },
    );
    return deploymentResponse(c, result);
  }

  on(routes, GROUPS_ROUTES.listRootGroupVersions, async (c) => {
    authorize(c, Action.VIEW, '/');
    return c.json(await versionsOf('/'));
  });

  on(routes, GROUPS_ROUTES.getGroupVersion, async (c) => {
    const groupId = groupIdOf(c);
    const version = c.req.param('version') ?? '';
    authorize(c, Action.VIEW, groupId);
    const apps = await appsAt(groupId, version);
    if (groupId !== '/' && apps.length === 0) {
      throw new NotFoundError(`Group '${groupId}' does not exist in version ${version}`);
    }
    return c.json(
      toGroupInfo({
        groupId,
        apps,
        embed: { groups: true, apps: true, pods: true },
        appInfo: toAppJson,
        fallbackVersion: version,
        // Records keep no history: a past version shows the flag as it is now.
        enforcing: await enforcingGroups(),
      }),
    );
  });

  on(routes, GROUPS_ROUTES.listGroupVersions, async (c) => {
    authorize(c, Action.VIEW, groupIdOf(c));
    return c.json(await versionsOf(groupIdOf(c)));
  });

  on(routes, GROUPS_ROUTES.listGroupApps, async (c) => {
    const groupId = groupIdOf(c);
    const { snapshot, apps: under } = await readGroup(groupId, principalOf(c));
    const apps = under.filter(
      (app) => app.id.slice(0, app.id.lastIndexOf('/')) === (groupId === '/' ? '' : groupId),
    );
    return c.json(await appInfos(snapshot, { apps, embed: parseEmbed(queryAll(c, 'embed')) }));
  });

  on(routes, GROUPS_ROUTES.getGroupRoot, (c) => getGroup(c, '/'));
  on(routes, GROUPS_ROUTES.getGroup, (c) => getGroup(c, groupIdOf(c)));

  on(routes, GROUPS_ROUTES.createGroupRoot, (c) =>
    changeGroup(c, { groupId: '/', isCreate: true }),
  );
  on(routes, GROUPS_ROUTES.createGroup, (c) =>
    changeGroup(c, { groupId: groupIdOf(c), isCreate: true }),
  );

  on(routes, GROUPS_ROUTES.updateGroupRoot, (c) =>
    changeGroup(c, { groupId: '/', isCreate: false }),
  );
  on(routes, GROUPS_ROUTES.updateGroup, (c) =>
    changeGroup(c, { groupId: groupIdOf(c), isCreate: false }),
  );

  on(routes, GROUPS_ROUTES.patchGroup, async (c) => {
    const groupId = groupIdOf(c);
    authorize(c, Action.UPDATE, groupId);
    const patch = parseWire(GroupPartialUpdateSchema, await readJson(c));
    await requireGroup(groupId);
    if (groupId.split('/').length !== 2) {
      throw new ValidationError([
        { path: '/enforceRole', errors: ['Only top-level groups may enforce a role.'] },
      ]);
    }
    if (patch.enforceRole !== undefined) {
      await orchestrator.updateGroups([{ id: groupId, enforceRole: patch.enforceRole }]);
    }
    return c.body(null, 200);
  });

  on(routes, GROUPS_ROUTES.deleteGroupRoot, (c) => deleteGroup(c, '/'));
  on(routes, GROUPS_ROUTES.deleteGroup, (c) => deleteGroup(c, groupIdOf(c)));

  return routes;
}
