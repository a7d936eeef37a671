// /v2/deployments: running deployments and cancelling one (DeploymentsResource.scala).
import { Hono } from 'hono';
import { Action, NotFoundError } from '../../domain/index.js';
import { visibleOnly } from '../auth/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { RouteDeps } from '../deps.js';
import { queryBoolean } from '../request.js';
import { deploymentResponse } from '../responses.js';
import { toDeploymentJson } from './wire/deployment-json.js';
import { isNameable } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { boolQuery, deployment, error, json } from '../route-docs.js';

/** The operations of `/v2/deployments`. */
export const DEPLOYMENTS_ROUTES = defineRoutes({
  listDeployments: {
    method: 'get',
    path: '/v2/deployments',
    operationId: 'listDeployments',
    summary: 'Running deployments',
    tag: 'deployments',
    answers: { '200': json('The deployments.', 'DeploymentList') },
  },
  cancelDeployment: {
    method: 'delete',
    path: '/v2/deployments/{deploymentId}',
    operationId: 'cancelDeployment',
    summary: 'Cancel a deployment (and roll it back unless `force=true`)',
    tag: 'deployments',
    params: {
      deploymentId: {
        description: 'Deployment id.',
        check: (id) =>
          isNameable(id) ? undefined : new NotFoundError(`DeploymentPlan ${id} does not exist`),
      },
    },
    query: [boolQuery('force', 'Only stop it, without a rollback (202, no body).', false)],
    answers: {
      '200': deployment('The rollback deployment.'),
      '202': { description: 'Stopped without rollback.' },
      '404': error('No such deployment.'),
    },
  },
});

/** Routes of `/v2/deployments`. */
export function deploymentsRoutes(deps: RouteDeps): Hono {
  const { store, orchestrator, reads } = deps;
  const routes = new Hono();

  on(routes, DEPLOYMENTS_ROUTES.listDeployments, async (c) => {
    // Only deployments whose every app the caller may view: none reveals another team's ids.
    const snapshot = await reads.snapshot();
    const deployments = visibleOnly(principalOf(c), snapshot.deployments, (d) => d.affectedApps);
    const instancesOf = (appId: string) => snapshot.instancesByApp.get(appId) ?? [];
    return c.json(deployments.map((d) => toDeploymentJson(d, instancesOf)));
  });

  on(routes, DEPLOYMENTS_ROUTES.cancelDeployment, async (c) => {
    const id = c.req.param('deploymentId') ?? '';
    const deployment = await store.deployments.get(id);
    if (!deployment) throw new NotFoundError(`DeploymentPlan ${id} does not exist`);
    // Cancelling changes every app it affects (a rollback or a stop).
    for (const appId of deployment.affectedApps) authorize(c, Action.UPDATE, appId);
    if (deployment.affectedApps.length === 0) authorize(c, Action.UPDATE, '/');
    const force = queryBoolean(c, 'force', false);
    const rollback = await orchestrator.cancelDeployment(id, { force });
    if (rollback) return deploymentResponse(c, rollback);
    // Marathon answers a forced cancel with 202 and no body.
    return c.body(null, 202);
  });

  return routes;
}
