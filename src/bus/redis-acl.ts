// One Redis ACL user per agent, created and deleted by the master: the agent may append to its own
// offers, status and log streams and consume its own command stream, and run nothing else.
//
//   pacer-agent-<id>  %W~<p>agent:<id>:offers %W~<p>agent:<id>:status %W~<p>agent:<id>:logs:*
//                     +xadd +ping +client|setname
//                     (~<p>agent:<id>:commands +xreadgroup +xack +xautoclaim +xgroup|create)
//
// The selector (Redis 7) confines the consumer-group commands to the command stream, so the agent
// can neither write launches into it nor read any other key; XADD reaches only its own streams.
import { Redis } from './ioredis.js';
import type { Logger } from '../lib/logger.js';
import { AGENT_ID_PATTERN } from './message-check.js';
import { topics } from './messages.js';
import { isRedisError } from './redis-replies.js';

/** The Redis user name of an agent. */
export function agentRedisUser(agentId: string): string {
  return `pacer-agent-${agentId}`;
}

/** Escapes Redis glob characters, so a key prefix matches only itself. */
function literal(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The `ACL SETUSER` rules of an agent's user (after the user name), given the SHA-256 (hex) of its
 * password: Redis keeps only that hash, and so does the master's store, so the user can be made
 * again after Redis restarts empty without anyone knowing the password.
 */
export function agentAclRules(options: {
  prefix: string;
  agentId: string;
  passwordSha256: string;
}): string[] {
  const { prefix, agentId, passwordSha256 } = options;
  // The id becomes part of key patterns: anything beyond [A-Za-z0-9._-] could widen them.
  if (!AGENT_ID_PATTERN.test(agentId)) throw new Error(`invalid agent id '${agentId}'`);
  if (!/^[0-9a-f]{64}$/.test(passwordSha256)) throw new Error('invalid password hash');
  const key = (stream: string) => literal(prefix + stream);
  return [
    'reset',
    'on',
    `#${passwordSha256}`,
    'resetchannels',
    '-@all',
    '+xadd',
    '+ping',
    '+client|setname',
    `%W~${key(topics.offers(agentId))}`,
    `%W~${key(topics.status(agentId))}`,
    `%W~${literal(prefix + topics.logs(agentId, ''))}*`,
    `(~${key(topics.commands(agentId))} +xreadgroup +xack +xautoclaim +xgroup|create)`,
  ];
}

/**
 * The rules of the master's own Redis user (README: "Agents and their identity"): every stream
 * under the prefix, and the ACL and CLIENT subcommands that make and remove agents' users.
 */
export function masterAclRules(prefix: string): string[] {
  return [
    'resetkeys',
    `~${literal(prefix)}*`,
    'resetchannels',
    '-@all',
    '+@stream',
    '+del',
    '+ping',
    '+info',
    '+client|setname',
    '+client|id',
    '+client|unblock',
    '+client|kill',
    '+acl|setuser',
    '+acl|deluser',
    '+acl|users',
  ];
}

export interface RedisAcl {
  /** Creates or replaces the agent's user; idempotent. */
  putAgentUser(options: { agentId: string; passwordSha256: string }): Promise<void>;
  /**
   * Deletes the agent's user and closes every connection it holds (`ACL DELUSER`, then `CLIENT
   * KILL USER` for good measure). Idempotent: a missing user is not an error.
   */
  deleteAgentUser(agentId: string): Promise<void>;
  /** The user names Redis knows (`ACL USERS`). */
  users(): Promise<string[]>;
  /**
   * Calls `listener` each time the connection to Redis is made again after a loss: a Redis that
   * restarted has lost the users made with `ACL SETUSER` (they are not in its config or ACL file).
   */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * ACL administration on the master's own Redis user (which needs `+acl|setuser +acl|deluser
 * +acl|users +client|kill` besides the bus's commands; see the README).
 */
export function createRedisAcl(options: {
  url: string;
  prefix: string;
  logger: Logger;
  /** CA that verifies a `rediss://` server (`--redis-ca`), as for the bus. */
  tlsCa?: Buffer;
}): RedisAcl {
  const logger = options.logger.child({ component: 'redis-acl' });
  const connection = new Redis(options.url, {
    ...(options.tlsCa && options.url.startsWith('rediss:') ? { tls: { ca: options.tlsCa } } : {}),
    protocol: 2,
    connectionName: 'pacer-acl',
    maxRetriesPerRequest: 20,
  });
  connection.on('error', (error: unknown) => logger.warn({ err: error }, 'redis connection error'));
  const listeners: (() => void)[] = [];
  let isFirstReady = true;
  connection.on('ready', () => {
    if (isFirstReady) isFirstReady = false;
    else for (const listener of listeners) listener();
  });

  return {
    async putAgentUser({ agentId, passwordSha256 }) {
      const rules = agentAclRules({ prefix: options.prefix, agentId, passwordSha256 });
      await connection.call('ACL', 'SETUSER', agentRedisUser(agentId), ...rules);
    },

    async deleteAgentUser(agentId) {
      const user = agentRedisUser(agentId);
      await connection.call('ACL', 'DELUSER', user);
      try {
        await connection.call('CLIENT', 'KILL', 'USER', user);
      } catch (error) {
        // Deleting the user already closed its connections; then Redis knows no such user.
        if (!isRedisError(error, 'ERR')) throw error;
      }
      logger.info({ agentId, user }, 'agent redis user deleted');
    },

    async users() {
      const reply = await connection.call('ACL', 'USERS');
      return Array.isArray(reply) ? reply.map(String) : [];
    },

    onReconnect(listener) {
      listeners.push(listener);
    },

    async close() {
      connection.disconnect();
    },
  };
}
