// Roles as Mesos and Marathon 1.9+ have them: role names, an app's effective role and the roles
// whose resources it accepts, reservations of agent resources to a role, quota and weights.
import type { PortRange, ScalarResources } from './resources.js';

/** The default role: resources reserved to nobody. */
export const UNRESERVED_ROLE = '*';

/** Longest role name accepted (Mesos sets none; a bound keeps the bus and the store small). */
export const MAX_ROLE_NAME_LENGTH = 128;

/** Resources of one role on an agent (reserved to it, or free of its reservation). */
export interface RoleResources extends ScalarResources {
  role: string;
  /** Port ranges reserved to the role (`ports(web):[40000-40010]`), sorted; absent: none. */
  ports?: PortRange[];
}

/** Quota of a role (Mesos 1.9+): what it is guaranteed, and what it may never exceed. */
export interface Quota {
  guarantees: Partial<ScalarResources>;
  limits: Partial<ScalarResources>;
}

/** What the operators set per role: quota, weight. Absent parts take the defaults. */
export interface RolePolicy {
  role: string;
  quota?: Quota;
  /** DRF weight; default 1. */
  weight?: number;
}

const FORBIDDEN_CHARS: readonly [string, string][] = [
  ['\t', 'horizontal tab (\\x09)'],
  ['\n', 'line feed (\\x0a)'],
  ['\v', 'vertical tab (\\x0b)'],
  ['\f', 'form feed (\\x0c)'],
  ['\r', 'carriage return (\\x0d)'],
  [' ', 'space (\\x20)'],
  ['/', 'slash (\\x2f)'],
  ['\x7f', 'backspace (\\x7f)'],
];

/**
 * Why `role` is not a valid role name, in Marathon's words (`state/ResourceRole.scala`); empty
 * when it is one. Adds a length bound and refuses other control characters, which Marathon
 * leaves to Mesos (a role name ends up in logs, metrics and bus messages).
 */
export function roleNameErrors(role: string): string[] {
  const errors: string[] = [];
  for (const bad of ['', '.', '..'])
    if (role === bad) errors.push(`A role name must not be ${JSON.stringify(bad)}.`);
  if (role.startsWith('-')) errors.push("A role name must not start with a '-'.");
  for (const [char, name] of FORBIDDEN_CHARS)
    if (role.includes(char)) errors.push(`A role name must not include a ${name} character.`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0e-\x1f]/.test(role))
    errors.push('A role name must not include a control character.');
  if (role.length > MAX_ROLE_NAME_LENGTH)
    errors.push(`A role name must not be longer than ${MAX_ROLE_NAME_LENGTH} characters.`);
  return errors;
}

export function isValidRoleName(role: string): boolean {
  return roleNameErrors(role).length === 0;
}

/** The top-level group of an app id: `/web/api/v1` → `web`; an app at the root has none. */
export function topLevelGroupOf(appId: string): string | undefined {
  const parts = appId.split('/').filter(Boolean);
  return parts.length > 1 ? parts[0] : undefined;
}

/**
 * A top-level group's own record: Pacer keeps one only for a group that enforces its role
 * (every other group is implied by the ids of the apps under it).
 */
export interface GroupRecord {
  /** The top-level group's id, e.g. `/web`. */
  id: string;
  /** Apps under the group default to the group's name as role and may use no other. */
  enforceRole: boolean;
}

/** The top-level group ids that enforce their role. */
export function enforcingGroupIds(records: readonly GroupRecord[]): Set<string> {
  return new Set(records.filter((record) => record.enforceRole).map((record) => record.id));
}

/** What roles an app may have, and which it gets when it names none. */
export interface RoleSettings {
  validRoles: string[];
  defaultRole: string;
}

/**
 * Marathon 1.9's role settings of an app (`RoleSettings.forService`): at the root only `*`;
 * under a top-level group `*` or the group's name, defaulting to `*`; under a group that
 * enforces its role only the group's name, which is also the default. The role the app has now
 * (`currentRole`) stays valid under a group, so turning `enforceRole` on never strands an app.
 */
export function roleSettingsFor(options: {
  appId: string;
  isGroupEnforcingRole: boolean;
  currentRole?: string;
}): RoleSettings {
  const group = topLevelGroupOf(options.appId);
  if (group === undefined) return { validRoles: [UNRESERVED_ROLE], defaultRole: UNRESERVED_ROLE };
  const current = options.currentRole === undefined ? [] : [options.currentRole];
  const allowed = options.isGroupEnforcingRole ? [group] : [UNRESERVED_ROLE, group];
  const validRoles = [...new Set([...allowed, ...current])];
  return { validRoles, defaultRole: options.isGroupEnforcingRole ? group : UNRESERVED_ROLE };
}

/** The role an app's instances are accounted to (an app stored before roles counted: `*`). */
export function roleOf(app: { role?: string }): string {
  return app.role ?? UNRESERVED_ROLE;
}

/**
 * Which resources an app may use: unreserved ones when it accepts `*`, those reserved to its
 * role when it accepts its role. Without `acceptedResourceRoles` it accepts both (Marathon's
 * default with no `--default_accepted_resource_roles`).
 */
export function resourceAccessOf(app: { role?: string; acceptedResourceRoles?: string[] }): {
  isUnreservedAccepted: boolean;
  reservedRole: string | undefined;
} {
  const role = roleOf(app);
  const accepted = app.acceptedResourceRoles;
  const isUnreservedAccepted = !accepted || accepted.includes(UNRESERVED_ROLE);
  const isRoleAccepted = role !== UNRESERVED_ROLE && (!accepted || accepted.includes(role));
  return { isUnreservedAccepted, reservedRole: isRoleAccepted ? role : undefined };
}
