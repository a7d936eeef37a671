// Files the agent shares with a task (its stdout and stderr in the sandbox), opened so that
// nothing the task can change is followed: no symlink, no hard link to another file, no FIFO.
import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants;
/** O_NONBLOCK: a FIFO the task planted fails the open (ENXIO) instead of blocking the agent. */
const APPEND = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
const READ = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

/** Which file a handle is, to find exactly that one again after an agent restart. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** A file that is not the agent's own regular file (a symlink, a link to another file, …). */
export class UnsafeFileError extends Error {
  override readonly name = 'UnsafeFileError';
}

/** Error codes of an open that met something other than a regular file. */
const NOT_A_FILE = new Set(['ELOOP', 'ENXIO', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM']);

/**
 * Opens `file` (whose directory the task may write) for appending. What is there is used only
 * when it is a regular file with one link; anything else (symlink, hard link to a file outside,
 * FIFO, directory) is removed and a new file created with O_EXCL, which never follows a link.
 * Call it before the task can run, or accept that a task racing it gets an error, never a write
 * elsewhere.
 */
export async function openAppendOnly(
  file: string,
): Promise<{ handle: FileHandle; identity: FileIdentity }> {
  try {
    const handle = await open(file, APPEND, 0o644);
    const info = await handle.stat();
    if (info.isFile() && info.nlink === 1) return { handle, identity: identityOf(info) };
    await handle.close();
  } catch (error) {
    if (!NOT_A_FILE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
  // rm never follows a symlink, also not when recursive: the link itself goes.
  await rm(file, { recursive: true, force: true });
  const handle = await open(file, APPEND | O_EXCL, 0o644);
  return { handle, identity: identityOf(await handle.stat()) };
}

/**
 * The same file as `handle`, opened for reading through `/proc/self/fd`: whatever the task has
 * done to the path since, this is the file the agent created.
 */
export function reopenForReading(handle: FileHandle): Promise<FileHandle> {
  return open(`/proc/self/fd/${handle.fd}`, O_RDONLY);
}

/**
 * Opens `file` for reading without following a symlink. It must be a regular file and, when
 * `identity` is given, that very file; without it, a file with one link only. Undefined when
 * the file does not exist (yet); `UnsafeFileError` for anything else.
 */
export async function openForReading(
  file: string,
  identity?: FileIdentity,
): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, READ);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return undefined;
    if (NOT_A_FILE.has(code)) throw new UnsafeFileError(`${file} is not a regular file (${code})`);
    throw error;
  }
  const info = await handle.stat();
  const isExpected = identity
    ? info.dev === identity.dev && info.ino === identity.ino
    : info.nlink === 1;
  if (info.isFile() && isExpected) return handle;
  await handle.close();
  throw new UnsafeFileError(`${file} is not the file the agent created; not reading it`);
}

function identityOf(info: { dev: number; ino: number }): FileIdentity {
  return { dev: info.dev, ino: info.ino };
}
