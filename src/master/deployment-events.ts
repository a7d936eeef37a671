// The JSON of a deployment plan as Marathon's deployment events carry it.
import type { Deployment } from '../domain/index.js';

export function deploymentPlanJson(deployment: Deployment): Record<string, unknown> {
  return { id: deployment.id, steps: deployment.steps, version: deployment.version };
}
