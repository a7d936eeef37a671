// A deployment: Marathon's plan of ordered steps, each a set of actions run in parallel.
import type { AppDefinition } from './app.js';

export const DeploymentActionName = [
  'StartApplication',
  'StopApplication',
  'ScaleApplication',
  'RestartApplication',
] as const;
export type DeploymentActionName = (typeof DeploymentActionName)[number];

export interface DeploymentAction {
  action: DeploymentActionName;
  app: string;
}

export interface DeploymentStep {
  actions: DeploymentAction[];
}

export interface Deployment {
  id: string;
  /** Version (timestamp) of the target state. */
  version: string;
  affectedApps: string[];
  steps: DeploymentStep[];
  /** 1-based index of the step running; 0 before the first starts. */
  currentStep: number;
  /** Apps as they were before (for rollback); absent = did not exist. */
  original: AppDefinition[];
  /** Apps as they should be after; an affected app missing here is being removed. */
  target: AppDefinition[];
  createdAt: string;
}

export interface DeploymentResult {
  deploymentId: string;
  version: string;
}
