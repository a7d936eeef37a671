// Deployment → Marathon's DeploymentStepInfo JSON (BEHAVIOUR.md (e)); `currentStep` is 1-based.
import type { Deployment, DeploymentResult, Instance } from '../../../domain/index.js';

/**
 * One entry of `GET /v2/deployments`; `instancesOf` gives an app's instances, whose readiness
 * results the current actions show.
 */
export function toDeploymentJson(
  deployment: Deployment,
  instancesOf: (appId: string) => readonly Instance[] = () => [],
): Record<string, unknown> {
  const current = deployment.steps[deployment.currentStep - 1];
  return {
    id: deployment.id,
    version: deployment.version,
    affectedApps: deployment.affectedApps,
    affectedPods: [],
    steps: deployment.steps.map((step) => ({
      actions: step.actions.map((a) => ({ action: a.action, app: a.app })),
    })),
    currentActions: (current?.actions ?? []).map((a) => ({
      action: a.action,
      app: a.app,
      readinessCheckResults: instancesOf(a.app).flatMap((i) => i.readinessCheckResults ?? []),
    })),
    currentStep: deployment.currentStep,
    totalSteps: deployment.steps.length,
  };
}

/** `{deploymentId, version}`, the body of every change that starts a deployment. */
export function toDeploymentResultJson(result: DeploymentResult): DeploymentResult {
  return { deploymentId: result.deploymentId, version: result.version };
}
