// A deployment as Marathon's events carry it: `{id, original, target, steps, version}`, with
// `original` and `target` the root group before and after (BEHAVIOUR.md (f)); clients that
// parse the event stream fail without them. Pure: the caller renders the group.
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
 * The plan of `deployment`: `original` is the root group holding the affected apps as they
 * were, `target` as the deployment makes them (an app absent from one side does not exist
 * there). Apps outside the deployment are left out, unlike Marathon, which shows the whole
 * tree: Pacer confines principals to paths, and a deployment event of one team must not carry
 * another team's app definitions (nor cost a render of every app per event).
 */
export function deploymentPlanJson(
  deployment: Deployment,
  renderRoot: RenderRootGroup,
): Record<string, unknown> {
  const byId = (a: AppDefinition, b: AppDefinition) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    id: deployment.id,
    original: renderRoot([...deployment.original].sort(byId)),
    target: renderRoot([...deployment.target].sort(byId)),
    steps: deployment.steps.map((step) => ({
      actions: step.actions.map((action) => ({ action: action.action, app: action.app })),
    })),
    version: deployment.version,
  };
}

/**
 * `deploymentPlanJson` rendered once per deployment: a plan is fixed when the deployment starts
 * (its progress only moves `currentStep`, which the plan does not show), yet each deployment
 * event carries it: a one-app deployment's 4 events rendered both root groups 4 times (issue
 * #12: a tenth of the master's CPU per POST went to events). Keyed by the deployment's `target`
 * array, which progress copies keep; the other fields are compared, so a changed plan renders
 * anew. The events of one deployment then share one plan object: readers must not change it.
 */
export function createPlanRenderer(
  renderRoot: RenderRootGroup,
): (deployment: Deployment) => Record<string, unknown> {
  const rendered = new WeakMap<
    Deployment['target'],
    { deployment: Deployment; json: Record<string, unknown> }
  >();
  return (deployment) => {
    const known = rendered.get(deployment.target);
    if (known && isSamePlan(known.deployment, deployment)) return known.json;
    const json = deploymentPlanJson(deployment, renderRoot);
    rendered.set(deployment.target, { deployment, json });
    return json;
  };
}

/** Whether both render the same plan (everything `deploymentPlanJson` reads is the same). */
function isSamePlan(a: Deployment, b: Deployment): boolean {
  return (
    a.id === b.id && a.version === b.version && a.original === b.original && a.steps === b.steps
  );
}
