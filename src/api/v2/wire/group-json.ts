// Groups as Pacer keeps them: implied by app ids (`/a/b/app` lives in groups `/a` and `/a/b`),
// plus the records of top-level groups that enforce their role.
// Builds Marathon's GroupInfo tree from the apps under a group.
import type { AppDefinition } from '../../../domain/index.js';

/** The parent group of an id (`/a/b` → `/a`, `/a` → `/`). */
export function parentOf(id: string): string {
  const cut = id.lastIndexOf('/');
  return cut <= 0 ? '/' : id.slice(0, cut);
}

/** True when `id` lies under group `groupId` (the root holds everything). */
export function isUnder(id: string, groupId: string): boolean {
  return groupId === '/' ? id !== '/' : id.startsWith(`${groupId}/`);
}

/** Which parts of a GroupInfo are written (`embed=group.groups|group.apps|group.pods`). */
export interface GroupEmbed {
  groups: boolean;
  apps: boolean;
  pods: boolean;
}

/** Reads the group-level embeds; none given means all three (Marathon's default). */
export function parseGroupEmbed(values: string[]): GroupEmbed {
  const wanted = new Set(values);
  if (!values.some((v) => ['group.groups', 'group.apps', 'group.pods'].includes(v))) {
    return { groups: true, apps: true, pods: true };
  }
  return {
    groups: wanted.has('group.groups'),
    apps: wanted.has('group.apps'),
    pods: wanted.has('group.pods'),
  };
}

/**
 * The GroupInfo of `groupId` over `apps` (every app under it). `appInfo` renders one app;
 * `fallbackVersion` dates a group without apps.
 */
export function toGroupInfo(options: {
  groupId: string;
  apps: AppDefinition[];
  embed: GroupEmbed;
  appInfo: (app: AppDefinition) => Record<string, unknown>;
  fallbackVersion: string;
  /** Top-level groups that enforce their role: shown so, and shown even with no app. */
  enforcing?: ReadonlySet<string>;
}): Record<string, unknown> {
  const { groupId, apps, embed, appInfo, fallbackVersion } = options;
  const enforcing = options.enforcing ?? new Set<string>();
  const direct = apps.filter((app) => parentOf(app.id) === groupId);
  const childIds = new Set<string>();
  for (const app of apps) {
    if (parentOf(app.id) === groupId) continue;
    const rest = app.id.slice(groupId === '/' ? 1 : groupId.length + 1);
    const first = rest.split('/')[0] ?? '';
    childIds.add(groupId === '/' ? `/${first}` : `${groupId}/${first}`);
  }
  if (groupId === '/') for (const id of enforcing) childIds.add(id);
  const version = apps.reduce((latest, app) => (app.version > latest ? app.version : latest), '');
  const info: Record<string, unknown> = { id: groupId };
  if (embed.apps) info.apps = direct.map(appInfo);
  if (embed.groups) {
    info.groups = [...childIds]
      .sort()
      .map((id) =>
        toGroupInfo({ ...options, groupId: id, apps: apps.filter((app) => isUnder(app.id, id)) }),
      );
  }
  if (embed.pods) info.pods = [];
  info.dependencies = [];
  info.version = version || fallbackVersion;
  info.enforceRole = enforcing.has(groupId);
  return info;
}
