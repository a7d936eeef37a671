// What a principal may see of lists and of the event stream, as Marathon's authorizer filters
// them: entries it may not `view` are left out (never a 403 for a list).
import { Action, isAllowed } from '../../domain/index.js';
import type { Principal } from '../../domain/index.js';

/** True when the principal may view every id (an admin or a viewer of `/`): lists go unfiltered. */
export function seesEverything(principal: Principal): boolean {
  return isAllowed(principal, Action.VIEW, '/');
}

/** True when the principal may view the app or group `id`. */
export function canView(principal: Principal, id: string): boolean {
  return isAllowed(principal, Action.VIEW, id);
}

/**
 * A suffix for memo keys of filtered answers: empty for those who see everything (one shared
 * answer), else the principal and its grants (a token re-created with other grants differs).
 */
export function visibilityKey(principal: Principal): string {
  return seesEverything(principal)
    ? ''
    : `\u0000${principal.name}\u0000${JSON.stringify(principal.grants)}`;
}

/** `list` without the entries whose ids the principal may not all view. */
export function visibleOnly<T>(
  principal: Principal,
  list: readonly T[],
  idsOf: (item: T) => readonly string[],
): T[] {
  if (seesEverything(principal)) return [...list];
  return list.filter((item) => idsOf(item).every((id) => canView(principal, id)));
}

const str = (value: unknown): string[] => (typeof value === 'string' ? [value] : []);

/**
 * The app and group ids a Marathon event is about; `undefined` for events about the cluster
 * itself (stream attach/detach, scheduler events), which only those who see everything get.
 */
export function eventIds(event: Record<string, unknown>): string[] | undefined {
  const ids = [
    ...str(event.appId),
    ...str(event.runSpecId),
    ...str(event.groupId),
    ...str((event.appDefinition as { id?: unknown } | undefined)?.id),
  ];
  const plan = event.plan as { steps?: { actions?: { app?: unknown }[] }[] } | undefined;
  for (const step of plan?.steps ?? [])
    for (const action of step.actions ?? []) ids.push(...str(action.app));
  return ids.length > 0 ? ids : undefined;
}

/** True when the principal may see `event` on the stream: it may view every id it names. */
export function canSeeEvent(principal: Principal, event: Record<string, unknown>): boolean {
  if (seesEverything(principal)) return true;
  const ids = eventIds(event);
  return ids !== undefined && ids.every((id) => canView(principal, id));
}
