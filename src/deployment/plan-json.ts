// A deployment as Marathon's events carry it: `{id, original, target, steps, version}`, with
// `original` and `target` the whole root group before and after (BEHAVIOUR.md (f)); clients
// that parse the event stream fail without them. Pure: the caller renders the group.
import type { AppDefinition, Deployment } from '../domain/index.js';

/** Renders the root group of `apps` as `GET /v2/groups` shows it (the API's wire format). */
export type RenderRootGroup = (apps: AppDefinition[]) => Record<string, unknown>;

/** A root group without the API's rendering: apps as stored, no subgroups (tests, defaults). */
export const plainRootGroup: RenderRootGroup = (apps) => ({
  id: '/',
  apps,
  groups: [],
  pods: [],
  dependencies: [],
  version: apps.reduce((latest, app) => (app.version > latest ? app.version : latest), ''),
});

/**
 * The plan of `deployment` over the apps that exist now: `original` is now with the affected
 * apps as they were before, `target` with them as the deployment makes them (an affected app
 * absent from either side does not exist there). Apps outside the deployment appear in both
 * as they are now.
 */
export function deploymentPlanJson(
  deployment: Deployment,
  context: { apps: Iterable<AppDefinition>; renderRoot: RenderRootGroup },
): Record<string, unknown> {
  const affected = new Set(deployment.affectedApps);
  const others = [...context.apps].filter((app) => !affected.has(app.id));
  const byId = (a: AppDefinition, b: AppDefinition) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    id: deployment.id,
    original: context.renderRoot([...others, ...deployment.original].sort(byId)),
    target: context.renderRoot([...others, ...deployment.target].sort(byId)),
    steps: deployment.steps.map((step) => ({
      actions: step.actions.map((action) => ({ action: action.action, app: action.app })),
    })),
    version: deployment.version,
  };
}
