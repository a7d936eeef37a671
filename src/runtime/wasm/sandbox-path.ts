// Resolves a guest path against a directory fd inside the sandbox, component by component (cap-std's
// approach): `..` never climbs above that directory, symlinks are followed only
// while they stay inside, absolute paths and absolute link targets are refused.
import { lstatSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { Errno, WasiError } from './wasi-errno.js';

/** Longest guest path the host reads (Linux's PATH_MAX): longer is ENAMETOOLONG. */
export const MAX_PATH_BYTES = 4096;

/** Symlinks followed in one resolution before ELOOP (Linux's limit). */
export const MAX_SYMLINK_HOPS = 40;

/** A path inside the sandbox: its components below the root, and where it is on the host. */
export interface SandboxPath {
  /** Real directories below the root, then the final name (never a symlink unless not followed). */
  components: string[];
  hostPath: string;
  /** `lstat` of the final component; undefined when it does not exist (it may be created). */
  stat?: BigIntStats;
  /** The guest path ended with `/`: the final component must be a directory. */
  hasTrailingSlash: boolean;
}

function lstatOrUndefined(hostPath: string): BigIntStats | undefined {
  try {
    return lstatSync(hostPath, { bigint: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Resolves `path` relative to `base` (a directory fd's components below `root`), never leaving
 * `base`: a `..` above it is ENOTCAPABLE, also inside a link's target. Every symlink before the last
 * component is followed (at most `MAX_SYMLINK_HOPS`, else ELOOP); the last one only when
 * `shouldFollow` or the path ends with `/`. An absolute path or link target is ENOTCAPABLE. The guest is single-threaded and its sandbox is its own, so nothing
 * changes the tree between this walk and the call that uses the result.
 */
export function resolveSandboxPath(options: {
  root: string;
  base: string[];
  path: string;
  shouldFollow?: boolean;
}): SandboxPath {
  const { root, base, path } = options;
  if (path.includes('\0')) throw new WasiError(Errno.INVAL);
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new WasiError(Errno.NAMETOOLONG);
  if (path.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE);
  const hasTrailingSlash = path.endsWith('/') || path.endsWith('/.');
  const components = [...base];
  // A directory fd is a capability for what is below it: `..` never climbs above `base`.
  const floor = base.length;
  // Parts still to walk, first one next; a followed link puts its target's parts in front.
  const pending = split(path).reverse();
  let hops = 0;
  // A directory fd holds names, not a handle: check again that each is still a real directory,
  // or a task could swap one for a link (`a` → `..`) and walk out through an fd it opened below.
  let stat: BigIntStats | undefined = lstatOrUndefined(root);
  for (let i = 1; i <= base.length && stat !== undefined; i++) {
    if (!stat.isDirectory()) throw new WasiError(Errno.NOTDIR);
    stat = lstatOrUndefined(join(root, ...base.slice(0, i)));
  }
  if (stat === undefined) throw new WasiError(Errno.NOENT);
  if (!stat.isDirectory()) throw new WasiError(Errno.NOTDIR);
  while (pending.length > 0) {
    const part = pending.pop() as string;
    if (part === '..') {
      if (components.length <= floor) throw new WasiError(Errno.NOTCAPABLE);
      components.pop();
      stat = lstatOrUndefined(join(root, ...components));
      continue;
    }
    if (stat !== undefined && !stat.isDirectory()) throw new WasiError(Errno.NOTDIR);
    if (stat === undefined) throw new WasiError(Errno.NOENT);
    const hostPath = join(root, ...components, part);
    const next = lstatOrUndefined(hostPath);
    const isLast = pending.length === 0;
    if (next?.isSymbolicLink() && (!isLast || options.shouldFollow || hasTrailingSlash)) {
      hops += 1;
      if (hops > MAX_SYMLINK_HOPS) throw new WasiError(Errno.LOOP);
      const target = readlinkSync(hostPath, 'utf8');
      if (target.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE);
      pending.push(...split(target).reverse());
      // The link's own directory is where its target starts; a bare `.` or `a/..` names it.
      if (pending.length === 0) stat = lstatOrUndefined(join(root, ...components));
      if (pending.length === 0) return finish(root, { components, stat, hasTrailingSlash });
      continue;
    }
    components.push(part);
    stat = next;
  }
  return finish(root, { components, stat, hasTrailingSlash });
}

function finish(root: string, found: Omit<SandboxPath, 'hostPath'>): SandboxPath {
  const { components, stat, hasTrailingSlash } = found;
  if (hasTrailingSlash && stat !== undefined && !stat.isDirectory()) {
    throw new WasiError(Errno.NOTDIR);
  }
  return { components, hostPath: join(root, ...components), stat, hasTrailingSlash };
}
