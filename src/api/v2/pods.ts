// /v2/pods: Pacer runs apps only. Every pod route answers 404 in Marathon's error shape saying
// so; the capability probe `HEAD /v2/pods` (200 when pods exist) thus reports no pods.
import { Hono } from 'hono';
import { NotFoundError } from '../../domain/index.js';

/** The answer of every pod route (pods may come later; clients read `message`). */
export const PODS_UNSUPPORTED = 'Pods are not supported by Pacer; use apps (/v2/apps).';

/** Routes of `/v2/pods`. */
export function podsRoutes(): Hono {
  const routes = new Hono();
  const refuse = () => {
    throw new NotFoundError(PODS_UNSUPPORTED);
  };
  routes.on(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], '/v2/pods', refuse);
  routes.on(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], '/v2/pods/*', refuse);
  return routes;
}
