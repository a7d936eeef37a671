// Quota and weights per role, written through the applier (the one writer) and read from its
// memory; a change kicks every app so waiting instances are placed under the new policy.
import type { Quota, RolePolicy } from '../domain/index.js';
import type { Applier } from './applier/index.js';

export interface RolePolicies {
  list(): RolePolicy[];
  get(role: string): RolePolicy | undefined;
  setQuota(role: string, quota: Quota | null): Promise<void>;
  setWeight(role: string, weight: number | null): Promise<void>;
}

export function createRolePolicies(options: {
  applier: Applier;
  /** Asks for an evaluation of every app (quota can free or hold back resources). */
  kickAll: () => void;
}): RolePolicies {
  const { applier, kickAll } = options;
  const submit = async (intent: Parameters<Applier['submit']>[0]) => {
    const result = await applier.submit(intent);
    // Role policy parts carry no revisions: nothing can conflict.
    if (!result.ok) throw new Error(`Role policy refused: ${result.conflicts.join('; ')}`);
    kickAll();
  };
  return {
    list: () => applier.roles.list(),
    get: (role) => applier.roles.get(role),
    setQuota: (role, quota) => submit({ source: 'roles', quotas: [{ role, quota }] }),
    setWeight: (role, weight) => submit({ source: 'roles', weights: [{ role, weight }] }),
  };
}
