// /v2/apps/{id}/tasks: list and kill an app's tasks (AppTasksResource.scala); `{group}/*/tasks`
// lists the tasks of every app under a group.
import { Hono } from 'hono';
import type { Context } from 'hono';
import {
  Action,
  BadRequestError,
  NotFoundError,
  canonicalPath,
  currentTaskId,
  parseTaskId,
} from '../../domain/index.js';
import type { AppDefinition, Instance, KillOptions } from '../../domain/index.js';
import { visibleOnly } from '../auth/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { RouteDeps } from '../deps.js';
import { queryBoolean } from '../request.js';
import { deploymentResponse, requireApp, unknownApp } from '../responses.js';
import { hasTask, servicePortsOf, taskFuelOf, toTaskJson } from './wire/task-json.js';
import type { TaskJson } from './wire/task-json.js';
import { APP_ID, APP_ID_OR_GROUP_STAR, TASK_ID } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { FORCE, NO_APP, SCALE, WIPE, boolQuery, error, json, textQuery } from '../route-docs.js';

/** Pacer's own query parameter: add `fuelUsed` to each task (Marathon's Task JSON lacks it). */
const FUEL = boolQuery(
  'fuel',
  "Pacer: add `fuelUsed` to metered Wasm tasks (the final figure once ended, else the running figure of the agent's last offer).",
  false,
);

/** `scale`, `wipe`, `force` of a kill request; `scale` with `wipe` answers 400. */
export function killOptions(c: Context): KillOptions {
  const options = {
    scale: queryBoolean(c, 'scale', false),
    wipe: queryBoolean(c, 'wipe', false),
    force: queryBoolean(c, 'force', false),
  };
  if (options.scale && options.wipe) {
    throw new BadRequestError('You cannot use scale and wipe at the same time.');
  }
  return options;
}

/** Task JSON of instances, with the service ports of their apps (and `fuelOf`'s fuel). */
export function tasksJson(
  instances: Instance[],
  appOf: (appId: string) => AppDefinition | undefined,
  fuelOf?: (instance: Instance) => number | undefined,
): TaskJson[] {
  const ports = new Map<string, number[]>();
  const out: TaskJson[] = [];
  for (const instance of instances) {
    if (!hasTask(instance)) continue;
    let servicePorts = ports.get(instance.appId);
    if (!servicePorts) {
      servicePorts = servicePortsOf(appOf(instance.appId));
      ports.set(instance.appId, servicePorts);
    }
    out.push(toTaskJson(instance, servicePorts, fuelOf));
  }
  return out;
}

/** The operations of `/v2/apps/{id}/tasks[/{taskId}]`. */
export const APP_TASKS_ROUTES = defineRoutes({
  listAppTasks: {
    method: 'get',
    path: '/v2/apps/{id}/tasks',
    operationId: 'listAppTasks',
    summary: 'Tasks of an app (`{group}/*` for every app under a group)',
    tag: 'apps',
    params: { id: APP_ID_OR_GROUP_STAR },
    query: [FUEL],
    answers: { '200': json('The tasks.', 'TaskList'), ...NO_APP },
  },
  killAppTask: {
    method: 'delete',
    path: '/v2/apps/{id}/tasks/{taskId}',
    operationId: 'killAppTask',
    summary: 'Kill one task of an app',
    tag: 'apps',
    params: { id: APP_ID, taskId: TASK_ID },
    query: [SCALE, WIPE, FORCE],
    answers: {
      '200': json('`{"task"}`, or a DeploymentResult with `scale=true`.', 'KilledTask'),
      '400': error('`scale` and `wipe` together.'),
      '404': error('No such app or task.'),
    },
  },
  killAppTasks: {
    method: 'delete',
    path: '/v2/apps/{id}/tasks',
    operationId: 'killAppTasks',
    summary: 'Kill tasks of an app',
    tag: 'apps',
    params: { id: APP_ID },
    query: [textQuery('host', 'Only tasks on this host (`*` = all).'), SCALE, WIPE, FORCE],
    answers: {
      '200': json('`{"tasks"}` killed, or a DeploymentResult with `scale=true`.', 'KilledTasks'),
      '400': error('`scale` and `wipe` together.'),
      ...NO_APP,
    },
  },
});

/** Routes of `/v2/apps/{id}/tasks[/{taskId}]`. */
export function appTasksRoutes(deps: RouteDeps): Hono {
  const { store, orchestrator, reads } = deps;
  const routes = new Hono();

  const running = (taskId: string) => deps.taskFuel?.fuelUsed(taskId);
  const withFuel = (instance: Instance) => taskFuelOf(instance, running);

  on(routes, APP_TASKS_ROUTES.listAppTasks, async (c) => {
    const raw = c.req.param('id') ?? '';
    const fuelOf = queryBoolean(c, 'fuel', false) ? withFuel : undefined;
    const group = /^((?:.+\/)|)\*$/.exec(raw);
    if (group) {
      const prefix = canonicalPath(group[1] ?? '');
      const under = prefix === '/' ? '/' : `${prefix}/`;
      const snapshot = await reads.snapshot();
      const instances = visibleOnly(
        principalOf(c),
        snapshot.instances.filter((i) => i.appId.startsWith(under)),
        (i) => [i.appId],
      );
      return c.json({
        tasks: tasksJson(instances, (appId) => snapshot.appById.get(appId), fuelOf),
      });
    }
    const id = canonicalPath(raw);
    authorize(c, Action.VIEW, id);
    const snapshot = await reads.snapshot();
    const app = snapshot.appById.get(id);
    if (!app) throw unknownApp(id);
    const servicePorts = servicePortsOf(app);
    const instances = snapshot.instancesByApp.get(id) ?? [];
    return c.json({
      tasks: instances.filter(hasTask).map((i) => toTaskJson(i, servicePorts, fuelOf)),
    });
  });

  on(routes, APP_TASKS_ROUTES.killAppTask, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    const taskId = c.req.param('taskId') ?? '';
    const options = killOptions(c);
    authorize(c, Action.UPDATE, id);
    const app = await requireApp(store, id);
    const parsed = parseTaskId(taskId);
    const instance = parsed ? await store.instances.get(parsed.instanceId) : undefined;
    if (!instance || instance.appId !== id || !hasTask(instance)) {
      throw new NotFoundError(`Task '${taskId}' does not exist`);
    }
    const { killed, deployment } = await orchestrator.killTasks([currentTaskId(instance)], options);
    if (options.scale && deployment) return deploymentResponse(c, deployment);
    const task = killed[0] ?? instance;
    return c.json({ task: toTaskJson(task, servicePortsOf(app)) });
  });

  on(routes, APP_TASKS_ROUTES.killAppTasks, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    const options = killOptions(c);
    const host = c.req.query('host');
    authorize(c, Action.UPDATE, id);
    const app = await requireApp(store, id);
    const instances = (await store.instances.listByApp(id)).filter(
      (i) => hasTask(i) && (host === undefined || host === '*' || i.host === host),
    );
    if (instances.length === 0) return c.json({ tasks: [] });
    const { killed, deployment } = await orchestrator.killTasks(
      instances.map((i) => currentTaskId(i)),
      options,
    );
    if (options.scale && deployment) return deploymentResponse(c, deployment);
    const servicePorts = servicePortsOf(app);
    return c.json({ tasks: killed.map((i) => toTaskJson(i, servicePorts)) });
  });

  return routes;
}
