// What an app's role depends on outside its body: whether its top-level group enforces its role
// (the group records in the store) and the role the app has now (Marathon 1.9's RoleSettings).
import { enforcingGroupIds, roleOf, topLevelGroupOf } from '../../domain/index.js';
import type { Store } from '../../store/store.js';
import type { LiveState } from '../ports.js';
import type { AppRoleContext } from './wire/app-normalize.js';

/**
 * The top-level group ids that enforce their role, asked only when one of `appIds` lies under a
 * top-level group (an app at the root has no group to ask). The leader holds them in memory
 * (`live`, kept by the applier with every write); a master without state reads the store.
 */
export async function enforcingGroupsFor(
  source: { store: Store; live?: Pick<LiveState, 'revision' | 'enforcingGroups'> | undefined },
  appIds: string[],
): Promise<Set<string>> {
  if (appIds.every((id) => topLevelGroupOf(id) === undefined)) return new Set();
  const { live, store } = source;
  if (live && live.revision() !== undefined) return live.enforcingGroups();
  return enforcingGroupIds(await store.groups.list());
}

/** The role context of app `appId`, stored now as `current` (undefined when new). */
export function appRoleContext(options: {
  appId: string;
  enforcing: ReadonlySet<string>;
  current?: { role?: string };
}): AppRoleContext {
  const group = topLevelGroupOf(options.appId);
  const isGroupEnforcingRole = group !== undefined && options.enforcing.has(`/${group}`);
  return options.current
    ? { isGroupEnforcingRole, currentRole: roleOf(options.current) }
    : { isGroupEnforcingRole };
}
