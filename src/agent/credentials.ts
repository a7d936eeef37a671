// An agent's own identity: exchanged once for a join token at the master, then kept in its work
// directory (mode 0600) and reused on every restart. The file is the agent's Redis password, so
// one that others could read, or that is a symlink (pointing anywhere), is refused.
import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AGENT_ID_PATTERN } from '../bus/index.js';
import { hasCodePointsBetween, type Logger } from '../lib/index.js';
import type { Dispatcher } from 'undici';

/** What the master gave this agent for its join token. */
export interface AgentCredentials {
  agentId: string;
  redisUsername: string;
  redisPassword: string;
}

/**
 * The credentials in `value` (unknown fields dropped), or undefined when it holds none. Checked by
 * hand, not with zod, which an agent does not load (issue 14).
 */
function credentialsIn(value: unknown): AgentCredentials | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { agentId, redisUsername, redisPassword } = value as Record<string, unknown>;
  if (typeof agentId !== 'string' || !AGENT_ID_PATTERN.test(agentId)) return undefined;
  if (typeof redisUsername !== 'string' || !hasCodePointsBetween(redisUsername, 1, 256))
    return undefined;
  if (typeof redisPassword !== 'string' || !hasCodePointsBetween(redisPassword, 1, 1024))
    return undefined;
  return { agentId, redisUsername, redisPassword };
}

/** The file's name in the work directory. */
export const CREDENTIALS_FILE = 'credentials.json';

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/**
 * The credentials kept in `workDir`, or undefined when there are none. Throws
 * `CredentialsError` when the file is a symlink, not a regular file, readable or writable by
 * group or others, or not what the master gave.
 */
export async function readCredentials(workDir: string): Promise<AgentCredentials | undefined> {
  const file = path.join(workDir, CREDENTIALS_FILE);
  let handle;
  try {
    // O_NOFOLLOW: a symlink fails to open (ELOOP) rather than being followed.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new CredentialsError(`${file} is a symlink; refusing to read it`);
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new CredentialsError(`${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new CredentialsError(
        `${file} is readable or writable by others (mode ${(stat.mode & 0o777).toString(8)}); ` +
          'it holds a password: chmod 600 it',
      );
    }
    const credentials = credentialsIn(JSON.parse(await handle.readFile('utf8')));
    if (!credentials) throw new CredentialsError(`${file} does not hold agent credentials`);
    return credentials;
  } finally {
    await handle.close();
  }
}

/** Writes the credentials with mode 0600, atomically (a reader never sees half a file). */
export async function writeCredentials(
  workDir: string,
  credentials: AgentCredentials,
): Promise<void> {
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const file = path.join(workDir, CREDENTIALS_FILE);
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  // 'wx': never through an existing file or symlink planted under the temporary name.
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(credentials));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // rename replaces a symlink at `file` itself, never what it points to.
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Exchanges a join token at the master for this agent's credentials. */
export async function joinMaster(options: {
  masterUrl: string;
  joinToken: string;
  /** Verifies the master's HTTPS against `--ca` (lib/tls-client); the system CAs when absent. */
  dispatcher?: Dispatcher;
}): Promise<AgentCredentials> {
  const response = await fetch(new URL('/v2/acl/agent-join', options.masterUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: options.joinToken }),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new CredentialsError(
      `the master refused the join token (${response.status}): ${text.slice(0, 200)}`,
    );
  }
  const credentials = credentialsIn(JSON.parse(text));
  if (!credentials) throw new CredentialsError('the master answered the join without credentials');
  return credentials;
}

/**
 * This agent's credentials: those kept in `workDir`, else (with a join token) new ones from the
 * master, kept for next time. Undefined when there are none and no token: the agent then runs
 * as before, heard only by a master that does not require agent identity.
 */
export async function loadOrJoin(options: {
  workDir: string;
  masterUrl: string;
  joinToken?: string;
  logger: Logger;
  dispatcher?: Dispatcher;
}): Promise<AgentCredentials | undefined> {
  const kept = await readCredentials(options.workDir);
  if (kept) {
    if (options.joinToken)
      options.logger.info({ agentId: kept.agentId }, 'already joined; the join token is not used');
    return kept;
  }
  if (!options.joinToken) return undefined;
  const credentials = await joinMaster({
    masterUrl: options.masterUrl,
    joinToken: options.joinToken,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  await writeCredentials(options.workDir, credentials);
  options.logger.info({ agentId: credentials.agentId }, 'joined the master');
  return credentials;
}

/** `redisUrl` with the agent's own user and password in place of any given. */
export function redisUrlFor(redisUrl: string, credentials: AgentCredentials): string {
  const url = new URL(redisUrl);
  url.username = encodeURIComponent(credentials.redisUsername);
  url.password = encodeURIComponent(credentials.redisPassword);
  return url.toString();
}
