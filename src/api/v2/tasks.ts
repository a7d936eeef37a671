// /v2/tasks: every task, filtered by status, and killing tasks across apps (TasksResource.scala).
import { Hono } from 'hono';
import { Action, BadRequestError, parseTaskId, toMesosState } from '../../domain/index.js';
import type { AppDefinition } from '../../domain/index.js';
import { canView, visibilityKey } from '../auth/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { RouteDeps } from '../deps.js';
import { queryAll, readJson } from '../request.js';
import { deploymentResponse } from '../responses.js';
import { killOptions, tasksJson } from './app-tasks.js';
import { parseWire } from './wire/violations.js';
import { DeleteTasksSchema } from './wire/task-schemas.js';
import { defineRoutes, on } from '../route.js';
import { FORCE, SCALE, WIPE, error, json, listQuery } from '../route-docs.js';

const STATUS_FILTERS = { running: 'TASK_RUNNING', staging: 'TASK_STAGING' } as const;

/** The operations of `/v2/tasks` (logs of one task are in logs.ts). */
export const TASKS_ROUTES = defineRoutes({
  listTasks: {
    method: 'get',
    path: '/v2/tasks',
    operationId: 'listTasks',
    summary: 'Every task',
    tag: 'tasks',
    query: [listQuery('status', '`running` or `staging` (repeatable); other values are ignored.')],
    answers: { '200': json('The tasks.', 'TaskList') },
  },
  killTasks: {
    method: 'post',
    path: '/v2/tasks/delete',
    operationId: 'killTasks',
    summary: 'Kill tasks of any apps',
    tag: 'tasks',
    query: [SCALE, WIPE, FORCE],
    body: { schema: 'DeleteTasks' },
    answers: {
      '200': json('`{"tasks"}` killed, or a DeploymentResult with `scale=true`.', 'KilledTasks'),
      '400': error('A malformed task id, or `scale` with `wipe`.'),
    },
  },
});

/** Routes of `/v2/tasks` (logs of one task are in logs.ts). */
export function tasksRoutes(deps: RouteDeps): Hono {
  const { store, orchestrator, reads } = deps;
  const routes = new Hono();

  on(routes, TASKS_ROUTES.listTasks, async (c) => {
    // Only `running` and `staging` are recognised; unknown values are dropped, so a filter of
    // only unknown values lists every task (TasksResource.scala).
    const states = queryAll(c, 'status').flatMap((s) => {
      const state = STATUS_FILTERS[s.toLowerCase() as keyof typeof STATUS_FILTERS];
      return state ? [state] : [];
    });
    const snapshot = await reads.snapshot();
    const principal = principalOf(c);
    const key = `GET /v2/tasks ${states.join()}${visibilityKey(principal)}`;
    const body = await snapshot.memo(key, () => {
      const instances = snapshot.instances.filter(
        (i) =>
          canView(principal, i.appId) &&
          (states.length === 0 || (states as string[]).includes(toMesosState(i.condition))),
      );
      return JSON.stringify({
        tasks: tasksJson(instances, (appId) => snapshot.appById.get(appId)),
      });
    });
    return c.body(body, 200, { 'Content-Type': 'application/json' });
  });

  on(routes, TASKS_ROUTES.killTasks, async (c) => {
    const options = killOptions(c);
    const { ids } = parseWire(DeleteTasksSchema, await readJson(c));
    for (const id of ids) {
      const parsed = parseTaskId(id);
      if (!parsed) {
        throw new BadRequestError(
          `Invalid task id '${id}'. [The task id must be <appId>.instance-<uuid>._app.<incarnation>]`,
        );
      }
      // Every task's app before any is killed: one forbidden id refuses the whole request.
      const instance = await store.instances.get(parsed.instanceId);
      if (instance) authorize(c, Action.UPDATE, instance.appId);
    }
    const { killed, deployment } = await orchestrator.killTasks(ids, options);
    if (options.scale && deployment) return deploymentResponse(c, deployment);
    const apps = new Map<string, AppDefinition | undefined>();
    for (const { appId } of killed)
      if (!apps.has(appId)) apps.set(appId, await store.apps.get(appId));
    return c.json({ tasks: tasksJson(killed, (appId) => apps.get(appId)) });
  });

  return routes;
}
