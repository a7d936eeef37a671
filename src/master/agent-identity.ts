// Agents' identities: one-time join tokens, exchanged for an agent id and a Redis user of its own
// (redis-acl.ts); revocation deletes the user and closes its connections at once.
//
//   admin ─► createJoinToken(hostname) ─► token (shown once; stored as SHA-256, expires)
//   agent ─► join(token) ─► { agentId, redisUsername, redisPassword } (token used up)
//   admin ─► revoke(agentId) ─► ACL DELUSER + CLIENT KILL USER, streams unread, tasks unreachable
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RedisAcl } from '../bus/index.js';
import { agentRedisUser } from '../bus/redis-acl.js';
import { UnauthenticatedError } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';

/** What an agent receives for its join token; the password is never shown again. */
export interface AgentJoinResult {
  agentId: string;
  hostname: string;
  redisUsername: string;
  redisPassword: string;
}

export interface AgentIdentity {
  /** A new one-time join token for an agent on `hostname`, valid for the configured time. */
  createJoinToken(hostname: string): Promise<{ token: string; expiresAt: number }>;
  /**
   * Uses up `token` and creates the agent's identity and Redis user. Throws
   * `UnauthenticatedError` for a token that is unknown, used or expired (one answer for all, so
   * a caller learns nothing about which).
   */
  join(token: string): Promise<AgentJoinResult>;
  /**
   * Revokes an agent: its Redis user is deleted at once (connections closed), and it is never
   * believed again. False when the master knows no such agent.
   */
  revoke(agentId: string): Promise<boolean>;
  /**
   * Leading: loads identities and puts every unrevoked agent's Redis user back (this Redis keeps
   * nothing on disk, so after a restart the users are gone). Returns the unrevoked agent ids.
   */
  restore(): Promise<string[]>;
  /** True for an agent revoked (known from `restore` and `revoke`). */
  isRevoked(agentId: string): boolean;
}

/** Redis ACL calls; absent on the in-process bus of `pacer dev`, which has no users. */
export type AgentAcl = Pick<RedisAcl, 'putAgentUser' | 'deleteAgentUser' | 'onReconnect'>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function createAgentIdentity(options: {
  store: Store;
  acl?: AgentAcl;
  clock: Clock;
  logger: Logger;
  /** How long a join token stays usable. */
  tokenTtlMs: number;
  /** The master learns of an agent that is new (joined) or known but not yet heard. */
  onJoined: (agentId: string) => void;
  /** After a revocation (user deleted): stop reading the agent, handle its tasks as unreachable. */
  onRevoked: (agentId: string) => Promise<void>;
  /** Whether the master knows `agentId` at all (from its offers), for agents without credentials. */
  isKnownAgent: (agentId: string) => boolean;
}): AgentIdentity {
  const { store, acl, clock, logger, tokenTtlMs } = options;
  const revoked = new Set<string>();

  return {
    async createJoinToken(hostname) {
      const token = `pjt_${randomBytes(32).toString('base64url')}`;
      const expiresAt = clock.now() + tokenTtlMs;
      await store.agentIdentities.putJoinToken({ tokenSha256: sha256(token), hostname, expiresAt });
      logger.info({ hostname, expiresAt }, 'agent join token created');
      return { token, expiresAt };
    },

    async join(token) {
      const agentId = `agent-${randomUUID()}`;
      const redisPassword = randomBytes(32).toString('hex');
      const passwordSha256 = sha256(redisPassword);
      const now = clock.now();
      const joined = await store.transaction(async (tx) => {
        const used = await tx.agentIdentities.useJoinToken({
          tokenSha256: sha256(token),
          now,
          agentId,
        });
        if (!used) return undefined;
        await tx.agentIdentities.putCredential({
          agentId,
          hostname: used.hostname,
          passwordSha256,
          createdAt: now,
        });
        // Inside the transaction: when Redis refuses, the token is not used up and can be retried.
        await acl?.putAgentUser({ agentId, passwordSha256 });
        return used;
      });
      if (!joined) throw new UnauthenticatedError('Invalid, used or expired join token.');
      logger.info({ agentId, hostname: joined.hostname }, 'agent joined');
      options.onJoined(agentId);
      return {
        agentId,
        hostname: joined.hostname,
        redisUsername: agentRedisUser(agentId),
        redisPassword,
      };
    },

    async revoke(agentId) {
      const now = clock.now();
      const credential = await store.agentIdentities.getCredential(agentId);
      if (!credential && !options.isKnownAgent(agentId)) return false;
      // An agent without credentials is recorded revoked too, so it is never watched again.
      if (credential) await store.agentIdentities.revokeCredential(agentId, now);
      else
        await store.agentIdentities.putCredential({
          agentId,
          hostname: '',
          passwordSha256: '',
          createdAt: now,
          revokedAt: now,
        });
      revoked.add(agentId);
      if (credential) await acl?.deleteAgentUser(agentId);
      await options.onRevoked(agentId);
      logger.warn({ agentId }, 'agent revoked');
      return true;
    },

    async restore() {
      const active: string[] = [];
      for (const credential of await store.agentIdentities.listCredentials()) {
        if (credential.revokedAt !== undefined) {
          revoked.add(credential.agentId);
          // In case the revoking master died between the store and Redis.
          if (credential.passwordSha256) await acl?.deleteAgentUser(credential.agentId);
          continue;
        }
        await acl?.putAgentUser(credential);
        active.push(credential.agentId);
      }
      return active;
    },

    isRevoked: (agentId) => revoked.has(agentId),
  };
}
