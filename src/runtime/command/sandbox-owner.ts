// Hands a sandbox to the user a task runs as (Mesos chowns the sandbox the same way) and checks
// that this user can reach it at all.
import { lchown, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Changes the owner of `dir` and everything in it; symlinks themselves, never their targets. */
export async function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await lchown(dir, owner.uid, owner.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else await lchown(child, owner.uid, owner.gid);
  }
}

/**
 * The first ancestor of `dir` that `owner` may not search, or undefined when all are searchable.
 * bwrap, running as that user, must open the sandbox by its path.
 */
export async function unsearchableAncestor(
  dir: string,
  owner: { uid: number; gid: number },
): Promise<string | undefined> {
  let current = path.dirname(path.resolve(dir));
  for (;;) {
    const info = await stat(current);
    const bits = info.uid === owner.uid ? 0o100 : info.gid === owner.gid ? 0o010 : 0o001;
    if ((info.mode & bits) === 0) return current;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}
