// /v2/pods: Pacer runs apps only. Every pod route answers 404 in Marathon's error shape saying
// so; the capability probe `HEAD /v2/pods` (200 when pods exist) thus reports no pods.
import { Hono } from 'hono';
import { NotFoundError } from '../../domain/index.js';
import { defineRoutes, on } from '../route.js';
import type { Method, PathParam, RouteSpec } from '../route.js';
import { error } from '../route-docs.js';

/** The answer of every pod route (pods may come later; clients read `message`). */
export const PODS_UNSUPPORTED = 'Pods are not supported by Pacer; use apps (/v2/apps).';

/** Any pod id: none exists. */
const POD_ID: PathParam = {
  description: 'Pod id; it may contain `/`.',
  match: '.+',
  check: () => undefined,
};

function podRoute(method: Method, path: string): RouteSpec {
  const isOne = path.endsWith('{id}');
  return {
    method,
    path,
    operationId: `${method}Pod${isOne ? '' : 's'}`,
    summary: 'Pods are not supported: always 404 with a message',
    tag: 'pods',
    ...(isOne ? { params: { id: POD_ID } } : {}),
    answers: { '404': error('Pods are not supported by Pacer.') },
  };
}

/** The operations of `/v2/pods` (`HEAD` is answered by the `GET` routes). */
export const PODS_ROUTES = defineRoutes({
  getPods: podRoute('get', '/v2/pods'),
  postPods: podRoute('post', '/v2/pods'),
  getPod: podRoute('get', '/v2/pods/{id}'),
  putPod: podRoute('put', '/v2/pods/{id}'),
  deletePod: podRoute('delete', '/v2/pods/{id}'),
});

/** Routes of `/v2/pods`. */
export function podsRoutes(): Hono {
  const routes = new Hono();
  const refuse = () => {
    throw new NotFoundError(PODS_UNSUPPORTED);
  };
  for (const route of Object.values(PODS_ROUTES)) on(routes, route, refuse);
  return routes;
}
