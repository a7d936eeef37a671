// Pure step progress of a running deployment (Marathon's `DeploymentManager` step loop): which
// steps are done given what the cluster looks like now, and which apps wait for a later step.
// The master feeds it what it sees; nothing here reads a clock or the store.
import type { Deployment, DeploymentAction, DeploymentStep } from '../domain/index.js';
import { assertNever } from '../domain/index.js';

/** What step progress looks at, as the master sees it at one moment. */
export interface ProgressView {
  /** The app exists (its definition is stored). */
  hasApp(appId: string): boolean;
  /** How many instances of the app are left, in any condition. */
  instanceCount(appId: string): number;
  /** The app runs exactly as defined (the reconciler's `isConverged`). */
  isConverged(appId: string): boolean;
}

export interface Progress {
  /** The deployment with `currentStep` moved past every step done (unchanged when none). */
  deployment: Deployment;
  /** The steps finished now, in order (each a `deployment_step_success`). */
  completed: DeploymentStep[];
  /** Every step is done: the deployment succeeded. */
  isFinished: boolean;
}

/** Whether one action is done. */
export function isActionDone(action: DeploymentAction, view: ProgressView): boolean {
  switch (action.action) {
    case 'StartApplication':
      return view.hasApp(action.app);
    case 'StopApplication':
      return view.instanceCount(action.app) === 0;
    case 'ScaleApplication':
    case 'RestartApplication':
      // An app removed meanwhile (a later deployment) has nothing left to wait for.
      return view.isConverged(action.app) || !view.hasApp(action.app);
    default:
      return assertNever(action.action);
  }
}

/**
 * Moves `deployment` past every step whose actions are all done, one after another (a step
 * starts only after the one before it finished). Steps are 1-based; `currentStep` 0 (not
 * started) counts as the first.
 */
export function advance(deployment: Deployment, view: ProgressView): Progress {
  let currentStep = Math.max(deployment.currentStep, 1);
  const completed: DeploymentStep[] = [];
  while (currentStep <= deployment.steps.length) {
    const step = deployment.steps[currentStep - 1];
    if (!step || !step.actions.every((action) => isActionDone(action, view))) break;
    completed.push(step);
    currentStep++;
  }
  return {
    deployment:
      currentStep === deployment.currentStep ? deployment : { ...deployment, currentStep },
    completed,
    isFinished: currentStep > deployment.steps.length,
  };
}

/**
 * Apps in a later step of a running deployment: left alone until their step comes (a new app
 * of step 3 does not start while step 2 still scales its dependencies).
 */
export function heldApps(deployments: readonly Deployment[]): Set<string> {
  const held = new Set<string>();
  for (const deployment of deployments) {
    deployment.steps.forEach((step, index) => {
      if (index + 1 > Math.max(deployment.currentStep, 1))
        for (const action of step.actions) held.add(action.app);
    });
  }
  return held;
}
