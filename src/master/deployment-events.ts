// Deployment events name their plan by reference; the applier renders it (deployment/plan-json.ts)
// when it emits them, over the apps as they are then, so that writers and the pure pass need
// not know the API's group format.
import type { Progress } from '../deployment/index.js';
import type { AppDefinition, Deployment } from '../domain/index.js';

const PLAN = Symbol('deployment plan');

/** A deployment standing for its rendered plan in an event. */
export interface PlanRef {
  readonly [PLAN]: Deployment;
}

export function planRef(deployment: Deployment): PlanRef {
  return { [PLAN]: deployment };
}

/** The event with every field holding a `PlanRef` rendered by `render`. */
export function renderPlanRefs<TEvent extends Record<string, unknown>>(
  event: TEvent,
  render: (deployment: Deployment) => Record<string, unknown>,
): TEvent {
  let rendered: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(event)) {
    if (typeof value === 'object' && value !== null && PLAN in value) {
      rendered ??= { ...event };
      rendered[key] = render((value as PlanRef)[PLAN]);
    }
  }
  return (rendered ?? event) as TEvent;
}

/** An event as writers submit it (the event hub stamps the time). */
type DeploymentEvent = { eventType: string } & Record<string, unknown>;

/** Marathon's root group id: deployments here always change the root's tree. */
const ROOT = '/';

function stepAt(deployment: Deployment, currentStep: number) {
  return deployment.steps[Math.max(currentStep, 1) - 1] ?? { actions: [] };
}

/** A deployment started: `deployment_info` with its first step. */
export function startedEvents(deployment: Deployment): DeploymentEvent[] {
  return [
    { eventType: 'deployment_info', plan: planRef(deployment), currentStep: stepAt(deployment, 1) },
  ];
}

/**
 * Steps done (`completed`, the ones just before `deployment.currentStep`): a
 * `deployment_step_success` each, an `app_terminated_event` for every app a finished step
 * stopped, then `deployment_success` + `group_change_success` when it is the end, else
 * `deployment_info` with the step now running.
 */
export function progressEvents(progress: Progress): DeploymentEvent[] {
  const { deployment, completed, isFinished } = progress;
  const firstStep = deployment.currentStep - completed.length;
  const events: DeploymentEvent[] = [];
  completed.forEach((step, n) => {
    const at: Deployment = { ...deployment, currentStep: firstStep + n };
    events.push({ eventType: 'deployment_step_success', plan: planRef(at), currentStep: step });
    for (const action of step.actions)
      if (action.action === 'StopApplication')
        events.push({ eventType: 'app_terminated_event', appId: action.app });
  });
  if (isFinished) {
    events.push(
      { eventType: 'deployment_success', id: deployment.id, plan: planRef(deployment) },
      { eventType: 'group_change_success', groupId: ROOT, version: deployment.version },
    );
  } else {
    events.push({
      eventType: 'deployment_info',
      plan: planRef(deployment),
      currentStep: stepAt(deployment, deployment.currentStep),
    });
  }
  return events;
}

/** A deployment cancelled or replaced: its running step failed, then the deployment and the group change. */
export function failedEvents(deployment: Deployment, reason: string): DeploymentEvent[] {
  return [
    {
      eventType: 'deployment_step_failure',
      plan: planRef(deployment),
      currentStep: stepAt(deployment, deployment.currentStep),
    },
    { eventType: 'deployment_failed', id: deployment.id, plan: planRef(deployment), reason },
    { eventType: 'group_change_failed', groupId: ROOT, version: deployment.version, reason },
  ];
}

/**
 * Health checks a deploy adds and removes (Marathon's health check manager reports each):
 * `add_health_check_event` per check new in an app's target, `remove_health_check_event` per
 * app that drops checks (or is removed with some).
 */
export function healthCheckEvents(change: {
  original: readonly AppDefinition[];
  target: readonly AppDefinition[];
  removed: readonly string[];
}): DeploymentEvent[] {
  const before = new Map(change.original.map((app) => [app.id, app]));
  const events: DeploymentEvent[] = [];
  for (const app of change.target) {
    const old = (before.get(app.id)?.healthChecks ?? []).map((check) => JSON.stringify(check));
    const now = app.healthChecks.map((check) => JSON.stringify(check));
    app.healthChecks.forEach((check, n) => {
      if (!old.includes(now[n] as string))
        events.push({
          eventType: 'add_health_check_event',
          appId: app.id,
          version: app.version,
          healthCheck: check,
        });
    });
    if (old.some((check) => !now.includes(check)))
      events.push({ eventType: 'remove_health_check_event', appId: app.id });
  }
  for (const appId of change.removed) {
    if ((before.get(appId)?.healthChecks.length ?? 0) > 0)
      events.push({ eventType: 'remove_health_check_event', appId });
  }
  return events;
}
