// Path ids, instance ids and task ids in Marathon's formats (BEHAVIOUR.md (a), (d)).
import { randomUUID } from 'node:crypto';

/** One segment of Marathon's PathId pattern: `^(([a-z0-9])|([a-z0-9][a-z0-9\-.]*[a-z0-9]))$`. */
const SEGMENT = '[a-z0-9](?:[a-z0-9\\-.]*[a-z0-9])?';
/**
 * Segments of the PathId pattern between slashes (doubled, leading and trailing ones allowed,
 * as empty segments are skipped). In one test, without splitting: every read checks its id.
 * Linear: a segment holds no `/`, so each can end at one place only.
 */
const PATH_ID = new RegExp(`^/*(?:${SEGMENT}(?:/+${SEGMENT})*)?/*$`);

/**
 * Makes an id canonical: absolute, no doubled or trailing slashes, `.` and `..` resolved
 * against `base` (default root). Does not validate the segments; see `isValidPathId`.
 */
export function canonicalPath(id: string, base = '/'): string {
  // Most ids already are canonical once rooted (every read names one): no split and join then.
  const rooted = id.startsWith('/') ? id : base === '/' ? `/${id}` : undefined;
  if (rooted !== undefined && !NOT_CANONICAL.test(rooted)) return rooted;
  const start = id.startsWith('/') ? [] : base.split('/').filter(Boolean);
  const parts = [...start];
  for (const segment of id.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  return '/' + parts.join('/');
}

/** An empty, `.` or `..` segment (a doubled or trailing slash counts as an empty one). */
const NOT_CANONICAL = /\/\.{0,2}(?=\/|$)/;

/** True when every segment of a canonical path follows Marathon's PathId pattern. */
export function isValidPathId(path: string): boolean {
  return PATH_ID.test(path);
}

/** `/edge/hello` → `edge_hello`, the app part of instance and task ids. */
export function safeAppId(appId: string): string {
  return appId.replace(/^\//, '').replaceAll('/', '_');
}

/** A new instance id: `<safeAppId>.instance-<uuid>`. */
export function newInstanceId(appId: string): string {
  return `${safeAppId(appId)}.instance-${randomUUID()}`;
}

/** Task id of an instance's n-th incarnation: `<instanceId>._app.<n>`. */
export function taskIdOf(instanceId: string, incarnation: number): string {
  return `${instanceId}._app.${incarnation}`;
}

export interface ParsedTaskId {
  instanceId: string;
  incarnation: number;
}

const TASK_ID = /^(.+\.(?:instance-|marathon-)[^.]+)\._app\.(\d+)$/;

/** Parses a task id of the current format; undefined when it is not one. */
export function parseTaskId(taskId: string): ParsedTaskId | undefined {
  const match = TASK_ID.exec(taskId);
  if (!match?.[1] || !match[2]) return undefined;
  return { instanceId: match[1], incarnation: Number(match[2]) };
}
