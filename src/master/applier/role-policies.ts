// Quota and weights per role in the applier: staged onto a batch's draft part by part (a quota
// and a weight of one role written in one batch both hold), read through `RoleView`.
import type { RolePolicy } from '../../domain/index.js';
import type { Intent } from './intent.js';
import type { Draft, StateData } from './state.js';

/** Role policies as last applied. */
export interface RoleView {
  /** Every role with a quota or a weight, ordered by role; empty while no state is loaded. */
  list(): RolePolicy[];
  get(role: string): RolePolicy | undefined;
}

function draftRole(state: StateData, draft: Draft, role: string): RolePolicy | undefined {
  const drafted = draft.roles.get(role);
  return drafted === undefined ? state.roles.get(role) : (drafted ?? undefined);
}

/** A policy with neither part is no policy. */
function orNull(policy: RolePolicy): RolePolicy | null {
  return policy.quota === undefined && policy.weight === undefined ? null : policy;
}

/** Stages the intent's quota and weight changes onto the draft (no revision checks: PUT wins). */
export function stageRolePolicies(state: StateData, draft: Draft, intent: Intent): void {
  for (const { role, quota } of intent.quotas ?? []) {
    const { quota: _old, ...rest } = draftRole(state, draft, role) ?? { role };
    draft.roles.set(role, orNull(quota ? { ...rest, quota } : rest));
  }
  for (const { role, weight } of intent.weights ?? []) {
    const { weight: _old, ...rest } = draftRole(state, draft, role) ?? { role };
    draft.roles.set(role, orNull(weight !== null ? { ...rest, weight } : rest));
  }
}

export function createRoleView(read: () => StateData | undefined): RoleView {
  return {
    list: () => [...(read()?.roles.values() ?? [])].sort((a, b) => (a.role < b.role ? -1 : 1)),
    get: (role) => read()?.roles.get(role),
  };
}
