// The shapes of container values that reach an engine's command line: OCI image references
// (distribution/reference grammar), volume paths and docker parameter keys. Pure: the API
// validates with them and the agent checks again before building the argv.
import type { Container } from './app.js';

// distribution/reference (github.com/distribution/reference, regexp.go), anchored:
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain '/'] path-component ['/' path-component]*
//   domain    := (domain-name | '[' IPv6 ']') [':' port]
const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
/** distribution/reference's NameTotalLengthMax. */
const MAX_NAME_LENGTH = 255;

/**
 * True when `image` is an OCI image reference (`nginx`, `registry:5000/team/app:1.2@sha256:…`).
 * Such a value can never start with `-`, so it is never taken for an engine flag.
 */
export function isImageReference(image: string): boolean {
  const match = REFERENCE.exec(image);
  return match !== null && (match[1]?.length ?? 0) <= MAX_NAME_LENGTH;
}

/**
 * Characters a volume path may not hold: the engine's `--volume src:dst:mode` separators, NUL
 * and line breaks. Their presence would let a path add options of its own.
 */
const UNSAFE_PATH = /[:,\0\r\n]/;

/** Why a volume's `hostPath` is not acceptable, or undefined when it is. */
export function hostPathProblem(hostPath: string): string | undefined {
  if (hostPath === '') return 'must not be empty';
  if (UNSAFE_PATH.test(hostPath)) return "must not contain ':', ',', NUL or line breaks";
  if (hostPath.startsWith('/')) return undefined;
  // Relative: a directory of the task's sandbox (Mesos' rule); `..` must not leave it.
  const depth = hostPath.split('/').reduce<number | undefined>((level, part) => {
    if (level === undefined) return undefined;
    if (part === '..') return level === 0 ? undefined : level - 1;
    return part === '' || part === '.' ? level : level + 1;
  }, 0);
  return depth === undefined ? "must stay inside the sandbox (no '..' above it)" : undefined;
}

/** Why a volume's `containerPath` is not acceptable, or undefined when it is. */
export function containerPathProblem(containerPath: string): string | undefined {
  if (containerPath === '') return 'must not be empty';
  if (UNSAFE_PATH.test(containerPath)) return "must not contain ':', ',', NUL or line breaks";
  return undefined;
}

/** A docker parameter key as an engine long option name (`memory-swappiness`, `shm-size`). */
export function isDockerParameterKey(key: string): boolean {
  return /^[a-z][a-z0-9-]{0,63}$/.test(key);
}

/** A host directory an agent's operator lets container volumes use (`--allow-host-volume`). */
export interface HostVolumeGrant {
  /** Absolute, normalized; volumes at or below it are allowed. */
  path: string;
  /** Only read-only mounts (`:ro` on the flag). */
  isReadOnly: boolean;
}

/** What an agent's operator lets its tasks reach on the host, advertised in its offers. */
export interface HostAccess {
  volumes: HostVolumeGrant[];
  /** Docker parameter keys this agent passes to its engine. */
  dockerParameters: string[];
}

/** Normalizes an absolute path (`//a/./b/../c/` → `/a/c`); `..` never climbs above `/`. */
export function normalizeAbsolutePath(absolute: string): string {
  const parts: string[] = [];
  for (const part of absolute.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** True when `hostPath` (absolute) lies at or below `grant.path` and the mode fits the grant. */
export function isVolumeGranted(
  volume: { hostPath: string; isReadOnly: boolean },
  grant: HostVolumeGrant,
): boolean {
  if (grant.isReadOnly && !volume.isReadOnly) return false;
  const target = normalizeAbsolutePath(volume.hostPath);
  return grant.path === '/' || target === grant.path || target.startsWith(`${grant.path}/`);
}

/** Parses `--allow-host-volume /srv/data[:ro|:rw]`. Throws on a relative path or unknown mode. */
export function parseHostVolumeGrant(text: string): HostVolumeGrant {
  const match = /^(\/[^:]*)(?::(ro|rw))?$/.exec(text);
  if (!match?.[1]) {
    throw new Error(
      `Invalid host volume '${text}' (expected an absolute path, optionally :ro or :rw)`,
    );
  }
  return { path: normalizeAbsolutePath(match[1]), isReadOnly: match[2] === 'ro' };
}

/** What a container asks of its agent's host: absolute host volumes and docker parameter keys. */
export interface HostAccessNeeds {
  volumes: { hostPath: string; isReadOnly: boolean }[];
  dockerParameters: string[];
}

/** The host access `container` needs; empty lists for an app that needs none. */
export function hostAccessNeedsOf(container: Container | undefined): HostAccessNeeds {
  const volumes: HostAccessNeeds['volumes'] = [];
  for (const raw of container?.volumes ?? []) {
    const volume = raw as { hostPath?: unknown; mode?: unknown };
    if (typeof volume.hostPath !== 'string' || !volume.hostPath.startsWith('/')) continue;
    const isReadOnly = typeof volume.mode === 'string' && volume.mode.toUpperCase() === 'RO';
    volumes.push({ hostPath: volume.hostPath, isReadOnly });
  }
  const dockerParameters = (container?.docker?.parameters ?? []).map((p) => p.key);
  return { volumes, dockerParameters };
}

/** The first need `access` does not grant, as a sentence, or undefined when all are granted. */
export function ungrantedHostAccess(
  needs: HostAccessNeeds,
  access: HostAccess | undefined,
): string | undefined {
  for (const volume of needs.volumes) {
    if (!access?.volumes.some((grant) => isVolumeGranted(volume, grant))) {
      const mode = volume.isReadOnly ? 'read-only' : 'read-write';
      return `host volume ${volume.hostPath} (${mode}) is not allowed on this agent`;
    }
  }
  for (const key of needs.dockerParameters) {
    if (!access?.dockerParameters.includes(key))
      return `docker parameter '${key}' is not allowed on this agent`;
  }
  return undefined;
}
