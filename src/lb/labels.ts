// marathon-lb's labels on an app, read defensively: `HAPROXY_GROUP`, `HAPROXY_0_VHOST`,
// `HAPROXY_0_PATH`, `HAPROXY_0_MODE`. Labels are written by whoever may create apps, so every
// value is bounded and checked; what is wrong is reported, never guessed.
import { hostOf } from './host-header.js';

export type RouteMode = 'http' | 'tcp';

/** What an app asks of the balancer for its first port (index 0). */
export interface AppLabels {
  groups: string[];
  vhosts: string[];
  pathPrefix: string;
  mode: RouteMode;
  /** Why parts of the labels were ignored (for the status page and the log). */
  problems: string[];
}

const MAX_LABEL_LENGTH = 4096;
const MAX_VHOSTS = 32;
const MAX_PATH_LENGTH = 1024;
/** A path prefix: starts with `/`, printable ASCII without spaces, quotes or `?`/`#`. */
const PATH_PREFIX = /^\/[!$%&'()*+,\-./0-9:;=@A-Z_a-z~]*$/;

/** The app's groups (comma-separated, as marathon-lb allows); none when the label is absent. */
function groupsOf(labels: Map<string, string>): string[] {
  const raw = labels.get('HAPROXY_GROUP');
  if (raw === undefined || raw.length > MAX_LABEL_LENGTH) return [];
  return raw
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}

export function readLabels(labels: Map<string, string>): AppLabels {
  const problems: string[] = [];
  const vhosts: string[] = [];
  const rawVhost = labels.get('HAPROXY_0_VHOST') ?? '';
  if (rawVhost.length > MAX_LABEL_LENGTH) {
    problems.push(`HAPROXY_0_VHOST is longer than ${MAX_LABEL_LENGTH} characters: ignored`);
  } else {
    for (const entry of rawVhost.split(',')) {
      if (entry.trim() === '') continue;
      const host = hostOf(entry.trim());
      // A port in a vhost label means nothing to Host matching: refuse it rather than drop it.
      if (host === undefined || entry.includes(':')) {
        problems.push(`HAPROXY_0_VHOST entry '${entry.slice(0, 80)}' is not a host name`);
      } else if (vhosts.length >= MAX_VHOSTS) {
        problems.push(`HAPROXY_0_VHOST names more than ${MAX_VHOSTS} hosts: the rest ignored`);
        break;
      } else if (!vhosts.includes(host)) vhosts.push(host);
    }
  }
  let pathPrefix = labels.get('HAPROXY_0_PATH') ?? '/';
  if (pathPrefix.length > MAX_PATH_LENGTH || !PATH_PREFIX.test(pathPrefix)) {
    problems.push(
      `HAPROXY_0_PATH '${pathPrefix.slice(0, 80)}' is not a path prefix: app not routed`,
    );
    pathPrefix = '';
  }
  const rawMode = (labels.get('HAPROXY_0_MODE') ?? 'http').toLowerCase();
  let mode: RouteMode = 'http';
  if (rawMode === 'tcp') mode = 'tcp';
  else if (rawMode !== 'http')
    problems.push(`HAPROXY_0_MODE '${rawMode.slice(0, 20)}' is not http or tcp: http used`);
  return { groups: groupsOf(labels), vhosts, pathPrefix, mode, problems };
}

/**
 * True when an app with `groups` belongs on a balancer of `group`: `*` takes every app, even one
 * without `HAPROXY_GROUP`; otherwise the app must list the group (marathon-lb's `--group`).
 */
export function isInGroup(groups: string[], group: string): boolean {
  return group === '*' || groups.includes(group);
}
