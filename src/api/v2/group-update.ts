// A GroupUpdate body → the change it asks for: apps to create or replace, apps to remove
// (those of listed levels that the update leaves out), top-level group records to store
// (`enforceRole`), with violations at Marathon paths.
import { canonicalPath } from '../../domain/index.js';
import type { AppDefinition, GroupRecord, Violation } from '../../domain/index.js';
import type { AppSpec } from '../../domain/index.js';
import type { AppFeatures } from './wire/app-features.js';
import { appRoleContext } from './group-roles.js';
import { normalizeApp } from './wire/app-normalize.js';
import { isUnder, parentOf } from './wire/group-json.js';
import type { WireGroup } from './wire/group-schema.js';

/** What a group update changes. */
export interface GroupChange {
  apps: AppSpec[];
  remove: string[];
  /** Top-level group records to store (`enforceRole` false: removed). */
  groups: GroupRecord[];
  violations: Violation[];
}

/** Marathon's words (GroupValidation `disallowEnforceRoleChangeIfServicesChanged`). */
export const ENFORCE_ROLE_WITH_SERVICES =
  'enforceRole cannot be modified in a request that adds, removes or modifies services; please make these changes in separate requests.';

const isTopLevel = (groupId: string) => groupId !== '/' && groupId.lastIndexOf('/') === 0;

/** True when the update (or a sub-group of it) touches apps: lists them, rolls back or scales. */
export function updateModifiesServices(update: WireGroup): boolean {
  return (
    update.version !== undefined ||
    update.scaleBy !== undefined ||
    update.apps !== undefined ||
    (update.groups ?? []).some(updateModifiesServices)
  );
}

const at = (prefix: string, path: string) => `${prefix}${path === '/' ? '' : path}` || '/';

function childGroupIds(groupId: string, apps: AppDefinition[]): Set<string> {
  const ids = new Set<string>();
  for (const app of apps) {
    if (parentOf(app.id) === groupId) continue;
    const rest = app.id.slice(groupId === '/' ? 1 : groupId.length + 1);
    ids.add(canonicalPath(rest.split('/')[0] ?? '', groupId));
  }
  return ids;
}

/**
 * `version` (rollback) and `scaleBy` stand alone: with any other property set (even `id`) they
 * are refused, as Marathon's `theOnlyDefinedOptionIn` does, in the group and every sub-group.
 */
export function checkOnlyOptions(
  update: WireGroup,
  options: { prefix: string; violations: Violation[] },
): void {
  const defined = Object.values(update).filter((value) => value !== undefined).length;
  for (const key of ['version', 'scaleBy'] as const) {
    if (update[key] !== undefined && defined > 1) {
      options.violations.push({
        path: `${options.prefix}/${key}`,
        errors: ['not allowed in conjunction with other properties.'],
      });
    }
  }
  update.groups?.forEach((group, index) =>
    checkOnlyOptions(group, { ...options, prefix: `${options.prefix}/groups(${index})` }),
  );
}

interface WalkOptions {
  update: WireGroup;
  groupId: string;
  current: AppDefinition[];
  features: AppFeatures;
  prefix: string;
  change: GroupChange;
  /** Top-level groups enforcing their role, as this request leaves them so far (changed here). */
  enforcing: Set<string>;
  /** Top-level groups that exist now (with apps under them or a record). */
  existing: ReadonlySet<string>;
  /** The whole request adds, removes or changes apps. */
  isChangingServices: boolean;
}

/** The level's `enforceRole`: only on a top-level group; not changed along with apps. */
function walkEnforceRole(options: WalkOptions): void {
  const { update, groupId, prefix, change, enforcing } = options;
  const path = `${prefix}/enforceRole`;
  if (update.enforceRole === undefined) return;
  if (!isTopLevel(groupId)) {
    if (update.enforceRole)
      change.violations.push({
        path,
        errors: [
          `enforceRole can only be set for top-level groups, and ${groupId} is not top-level`,
        ],
      });
    return;
  }
  const isChanged = enforcing.has(groupId) !== update.enforceRole;
  if (isChanged && options.isChangingServices && options.existing.has(groupId)) {
    change.violations.push({ path, errors: [ENFORCE_ROLE_WITH_SERVICES] });
    return;
  }
  if (update.enforceRole) enforcing.add(groupId);
  else enforcing.delete(groupId);
  if (isChanged) change.groups.push({ id: groupId, enforceRole: update.enforceRole });
}

function walk(options: WalkOptions): void {
  const { update, groupId, current, prefix, change } = options;
  walkEnforceRole(options);
  if (update.apps !== undefined) {
    const listed = new Set<string>();
    update.apps.forEach((wire, index) => {
      const path = `${prefix}/apps(${index})`;
      if (wire.id === undefined || wire.id === '') {
        change.violations.push({ path: `${path}/id`, errors: ['error.path.missing'] });
        return;
      }
      const id = canonicalPath(wire.id, groupId);
      listed.add(id);
      const roles = appRoleContext({
        appId: id,
        enforcing: options.enforcing,
        current: current.find((app) => app.id === id),
      });
      const result = normalizeApp(wire, { id, features: options.features, roles });
      if (result.ok) change.apps.push(result.value);
      else
        for (const v of result.errors)
          change.violations.push({ path: at(path, v.path), errors: v.errors });
    });
    for (const app of current) {
      if (parentOf(app.id) === groupId && !listed.has(app.id)) change.remove.push(app.id);
    }
  }
  if (update.groups !== undefined) {
    const listed = new Set<string>();
    update.groups.forEach((group, index) => {
      const path = `${prefix}/groups(${index})`;
      if (group.id === undefined || group.id === '') {
        change.violations.push({ path: `${path}/id`, errors: ['error.path.missing'] });
        return;
      }
      const id = canonicalPath(group.id, groupId);
      listed.add(id);
      const under = current.filter((app) => isUnder(app.id, id));
      walk({ ...options, update: group, groupId: id, current: under, prefix: path });
    });
    for (const childId of childGroupIds(groupId, current)) {
      if (listed.has(childId)) continue;
      for (const app of current) if (isUnder(app.id, childId)) change.remove.push(app.id);
    }
    // A top-level group left out goes with its record.
    if (groupId === '/') {
      for (const id of [...options.enforcing]) {
        if (listed.has(id)) continue;
        options.enforcing.delete(id);
        change.groups.push({ id, enforceRole: false });
      }
    }
  }
}

/**
 * The change a GroupUpdate for `groupId` asks for, given the apps now under the group. A level
 * that lists `apps` (or `groups`) keeps only those; a level that omits them keeps what it has.
 */
export function groupChange(options: {
  update: WireGroup;
  groupId: string;
  current: AppDefinition[];
  features: AppFeatures;
  /** Top-level groups that enforce their role now (their records). */
  enforcing: ReadonlySet<string>;
  /** Top-level groups that exist now (with apps under them or a record). */
  existing: ReadonlySet<string>;
}): GroupChange {
  const change: GroupChange = { apps: [], remove: [], groups: [], violations: [] };
  walk({
    ...options,
    prefix: '',
    change,
    enforcing: new Set(options.enforcing),
    isChangingServices: updateModifiesServices(options.update),
  });
  const changed = new Set(change.apps.map((a) => a.id));
  change.remove = [...new Set(change.remove)].filter((id) => !changed.has(id));
  return change;
}
