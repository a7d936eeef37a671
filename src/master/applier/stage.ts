// The revision check: an intent is staged onto a batch's draft only when every record it was
// computed from is still as the writer saw it. Pure over the state and the draft.
import type { Intent } from './intent.js';
import type { Draft, StateData } from './state.js';
import { stageRolePolicies } from './role-policies.js';
import { draftApp, draftDeployment, draftInstance } from './state.js';

/** Why `intent` cannot apply over `state` + `draft`; empty when it can. */
export function conflictsOf(state: StateData, draft: Draft, intent: Intent): string[] {
  const conflicts: string[] = [];
  for (const instance of intent.create ?? []) {
    if (draftInstance(state, draft, instance.instanceId))
      conflicts.push(`instance ${instance.instanceId} exists already`);
  }
  for (const { instance, revision } of intent.update ?? []) {
    const current = draftInstance(state, draft, instance.instanceId);
    if (!current) conflicts.push(`instance ${instance.instanceId} is gone`);
    else if (current.revision !== revision)
      conflicts.push(
        `instance ${instance.instanceId} is at revision ${current.revision}, not ${revision}`,
      );
  }
  for (const { instanceId, revision } of intent.expunge ?? []) {
    const current = draftInstance(state, draft, instanceId);
    // Gone already is what was asked.
    if (current && current.revision !== revision)
      conflicts.push(`instance ${instanceId} is at revision ${current.revision}, not ${revision}`);
  }
  for (const { appId, version } of intent.requireApps ?? []) {
    const app = draftApp(state, draft, appId);
    if (app?.version !== version)
      conflicts.push(
        `app ${appId} is at version ${app?.version ?? 'none'}, not ${version ?? 'none'}`,
      );
  }
  for (const deployment of intent.startDeployments ?? []) {
    if (draftDeployment(state, draft, deployment.id))
      conflicts.push(`deployment ${deployment.id} exists already`);
  }
  for (const { deployment, revision } of intent.progress ?? []) {
    const current = draftDeployment(state, draft, deployment.id);
    if (!current) conflicts.push(`deployment ${deployment.id} is gone`);
    else if (current.revision !== revision)
      conflicts.push(
        `deployment ${deployment.id} is at revision ${current.revision}, not ${revision}`,
      );
  }
  for (const { id, revision } of intent.finishDeployments ?? []) {
    const current = draftDeployment(state, draft, id);
    if (!current) conflicts.push(`deployment ${id} is gone`);
    else if (current.revision !== revision)
      conflicts.push(`deployment ${id} is at revision ${current.revision}, not ${revision}`);
  }
  return conflicts;
}

/** The app ids an intent writes (a batch holds each at most once: see `stage`). */
export function appKeysOf(intent: Intent): string[] {
  return [...(intent.apps ?? []).map((app) => app.id), ...(intent.removeApps ?? [])];
}

/** Stages a checked intent onto the draft, as the next revision. */
export function stage(state: StateData, draft: Draft, intent: Intent): void {
  const revision = ++draft.revision;
  for (const id of intent.removeDeployments ?? []) draft.deployments.set(id, null);
  for (const { id } of intent.finishDeployments ?? []) draft.deployments.set(id, null);
  for (const id of intent.removeApps ?? []) {
    draft.apps.set(id, null);
    draft.removedApps.push(id);
    draft.failures.delete(id);
  }
  for (const app of intent.apps ?? []) {
    draft.apps.set(app.id, app);
    draft.appVersions.push(app);
  }
  for (const deployment of intent.startDeployments ?? [])
    draft.deployments.set(deployment.id, { value: deployment, revision });
  for (const { deployment } of intent.progress ?? [])
    draft.deployments.set(deployment.id, { value: deployment, revision });
  for (const instance of intent.create ?? [])
    draft.instances.set(instance.instanceId, { value: instance, revision });
  for (const { instance } of intent.update ?? [])
    draft.instances.set(instance.instanceId, { value: instance, revision });
  for (const { instanceId } of intent.expunge ?? []) {
    if (draftInstance(state, draft, instanceId)) draft.instances.set(instanceId, null);
  }
  stageRolePolicies(state, draft, intent);
  for (const { agentId, since } of intent.drains ?? []) draft.drains.set(agentId, since);
  for (const record of intent.groups ?? []) draft.groups.set(record.id, record);
  for (const failure of intent.failures ?? []) {
    // The store keeps a failure only with its app: one of an app removed since is dropped.
    if (draftApp(state, draft, failure.appId)) draft.failures.set(failure.appId, failure);
  }
}
