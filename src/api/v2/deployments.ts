// /v2/deployments: running deployments and cancelling one (DeploymentsResource.scala).
import { Hono } from 'hono';
import { NotFoundError } from '../../domain/index.js';
import type { RouteDeps } from '../deps.js';
import { queryBoolean } from '../request.js';
import { deploymentResponse } from '../responses.js';
import { toDeploymentJson } from './wire/deployment-json.js';

/** Routes of `/v2/deployments`. */
export function deploymentsRoutes(deps: RouteDeps): Hono {
  const { store, orchestrator, reads } = deps;
  const routes = new Hono();

  routes.get('/v2/deployments', async (c) => {
    return c.json((await reads.snapshot()).deployments.map(toDeploymentJson));
  });

  routes.delete('/v2/deployments/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await store.deployments.get(id))) {
      throw new NotFoundError(`DeploymentPlan ${id} does not exist`);
    }
    const force = queryBoolean(c, 'force', false);
    const rollback = await orchestrator.cancelDeployment(id, { force });
    if (rollback) return deploymentResponse(c, rollback);
    // Marathon answers a forced cancel with 202 and no body.
    return c.body(null, 202);
  });

  return routes;
}
