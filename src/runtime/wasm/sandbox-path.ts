// Resolves a guest path against a directory inside the sandbox: no absolute paths, no `..`
// above the sandbox root, and no symbolic links anywhere on the way.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { Errno, WasiError } from './wasi-errno.js';

/** A path inside the sandbox: its components below the root, and where it is on the host. */
export interface SandboxPath {
  components: string[];
  hostPath: string;
}

/**
 * Resolves `path` relative to `base` (components below `root`). Every existing component
 * before the last must be a real directory; the last must not be a symlink unless
 * `isLinkAllowed` (unlink and lstat act on the link itself and never follow it).
 */
export function resolveSandboxPath(options: {
  root: string;
  base: string[];
  path: string;
  isLinkAllowed?: boolean;
}): SandboxPath {
  const { root, base, path } = options;
  if (path.includes('\0')) throw new WasiError(Errno.INVAL);
  if (path.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE);
  const components = [...base];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (components.length === 0) throw new WasiError(Errno.NOTCAPABLE);
      components.pop();
    } else {
      components.push(part);
    }
  }
  // Walk from the root so that a symlink planted anywhere cannot redirect us outside.
  let hostPath = root;
  for (let i = 0; i < components.length; i++) {
    hostPath = join(hostPath, components[i] as string);
    const isLast = i === components.length - 1;
    let stat;
    try {
      stat = lstatSync(hostPath);
    } catch {
      if (isLast) break; // may be created
      throw new WasiError(Errno.NOENT);
    }
    if (stat.isSymbolicLink() && !(isLast && options.isLinkAllowed)) {
      throw new WasiError(Errno.NOTCAPABLE);
    }
    if (!isLast && !stat.isDirectory()) throw new WasiError(Errno.NOTDIR);
  }
  return { components, hostPath };
}
