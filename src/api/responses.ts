// Answers shared by several routes: deployment results with Marathon's header, read helpers
// that turn a missing app into Marathon's 404.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { NotFoundError } from '../domain/index.js';
import type { AppDefinition, DeploymentResult } from '../domain/index.js';
import type { Store } from '../store/store.js';

/** Header naming the deployment a change started (RestResource.DeploymentHeader). */
export const DEPLOYMENT_HEADER = 'Marathon-Deployment-Id';

/** `{deploymentId, version}` with the `Marathon-Deployment-Id` header. */
export function deploymentResponse(
  c: Context,
  result: DeploymentResult,
  status: ContentfulStatusCode = 200,
): Response {
  c.header(DEPLOYMENT_HEADER, result.deploymentId);
  return c.json({ deploymentId: result.deploymentId, version: result.version }, status);
}

/** Marathon's 404 text for an app, optionally at a version. */
export function unknownApp(id: string, version?: string): NotFoundError {
  return new NotFoundError(`App '${id}' does not exist${version ? ` in version ${version}` : ''}`);
}

/** The current definition of `id`, or Marathon's 404. */
export async function requireApp(store: Store, id: string): Promise<AppDefinition> {
  const app = await store.apps.get(id);
  if (!app) throw unknownApp(id);
  return app;
}

/** Ids of the running deployments that affect each app. */
export async function deploymentIdsByApp(store: Store): Promise<Map<string, string[]>> {
  const byApp = new Map<string, string[]>();
  for (const deployment of await store.deployments.list()) {
    for (const appId of deployment.affectedApps) {
      const list = byApp.get(appId) ?? [];
      list.push(deployment.id);
      byApp.set(appId, list);
    }
  }
  return byApp;
}

/** The client address for `api_post_event` (forwarded header first, as a proxy would set it). */
export function clientIp(c: Context): string {
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded) return forwarded;
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)
    ?.incoming;
  return incoming?.socket?.remoteAddress ?? '0.0.0.0';
}
