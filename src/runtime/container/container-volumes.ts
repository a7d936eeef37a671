// Where each volume of a container comes from on the host, found without following a link the
// task (or an archive it fetched) could have planted: a relative host path is walked inside the
// sandbox component by component, an absolute one must still be granted once resolved.
import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isVolumeGranted, type HostAccess } from '../../domain/index.js';
import type { TaskSpec } from '../driver.js';
import { ContainerSpecError, volumesOf } from './container-run-args.js';

/**
 * The host path to mount for each of the task's volumes, by index. Call it before the
 * container exists: nothing of the task runs yet that could swap a checked directory. Throws
 * `ContainerSpecError` for a symlink on the way, a path that leaves the sandbox or a grant, or
 * an absolute path that does not exist.
 */
export async function resolveVolumeSources(options: {
  spec: TaskSpec;
  hostAccess: HostAccess;
}): Promise<string[]> {
  const sources: string[] = [];
  for (const volume of volumesOf(options.spec)) {
    const isReadOnly = volume.mode?.toUpperCase() === 'RO';
    sources.push(
      path.isAbsolute(volume.hostPath)
        ? await resolveGranted(volume.hostPath, isReadOnly, options.hostAccess)
        : await resolveInSandbox(options.spec.sandboxDir, volume.hostPath),
    );
  }
  return sources;
}

/** Walks `relative` down from the sandbox, creating missing directories, refusing any symlink. */
async function resolveInSandbox(sandboxDir: string, relative: string): Promise<string> {
  // hostPathProblem (in volumesOf) already refused a `..` that climbs above the sandbox.
  const parts = path.posix
    .normalize(relative)
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  let current = sandboxDir;
  for (const [i, part] of parts.entries()) {
    current = path.join(current, part);
    const isLast = i === parts.length - 1;
    try {
      const info = await lstat(current);
      if (info.isSymbolicLink())
        throw new ContainerSpecError(`volume ${relative}: ${part} is a symlink in the sandbox`);
      if (!info.isDirectory() && !(isLast && info.isFile()))
        throw new ContainerSpecError(`volume ${relative}: ${part} is not a directory`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(current, { mode: 0o755 });
    }
  }
  return current;
}

/** The real path of an absolute volume, which must itself lie under a grant that fits its mode. */
async function resolveGranted(
  hostPath: string,
  isReadOnly: boolean,
  access: HostAccess,
): Promise<string> {
  let real: string;
  try {
    real = await realpath(hostPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ContainerSpecError(`host volume ${hostPath} does not exist on this agent`);
    throw error;
  }
  for (const grant of access.volumes) {
    const grantReal = await realpath(grant.path).catch(() => grant.path);
    if (isVolumeGranted({ hostPath: real, isReadOnly }, { ...grant, path: grantReal })) return real;
  }
  throw new ContainerSpecError(
    `host volume ${hostPath} leads to ${real}, which is not allowed on this agent`,
  );
}
