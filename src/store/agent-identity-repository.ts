// Agents' join tokens and credentials (their Redis users), for the master's agent identity.
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Database } from './database.js';
import { agentCredentials, agentJoinTokens } from './schema.js';
import type { AgentCredential, AgentIdentityRepository } from './store.js';

function toCredential(row: typeof agentCredentials.$inferSelect): AgentCredential {
  return {
    agentId: row.agentId,
    hostname: row.hostname,
    passwordSha256: row.passwordSha256,
    createdAt: row.createdAt,
    ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt }),
  };
}

/** The agent identity repository on `db` (a database or a transaction). */
export function createAgentIdentityRepository(options: { db: Database }): AgentIdentityRepository {
  const { db } = options;
  async function getCredential(agentId: string): Promise<AgentCredential | undefined> {
    const [row] = await db
      .select()
      .from(agentCredentials)
      .where(eq(agentCredentials.agentId, agentId));
    return row && toCredential(row);
  }

  return {
    async putJoinToken(token) {
      await db.insert(agentJoinTokens).values(token);
    },

    async useJoinToken({ tokenSha256, now, agentId }) {
      // One conditional UPDATE: the row lock makes a second user of the token find usedAt set.
      const [row] = await db
        .update(agentJoinTokens)
        .set({ usedAt: now, agentId })
        .where(
          and(
            eq(agentJoinTokens.tokenSha256, tokenSha256),
            isNull(agentJoinTokens.usedAt),
            gt(agentJoinTokens.expiresAt, now),
          ),
        )
        .returning({ hostname: agentJoinTokens.hostname });
      return row;
    },

    async putCredential(credential) {
      await db.insert(agentCredentials).values({ ...credential, revokedAt: credential.revokedAt });
    },

    getCredential,

    async listCredentials() {
      const rows = await db.select().from(agentCredentials).orderBy(agentCredentials.agentId);
      return rows.map(toCredential);
    },

    async revokeCredential(agentId, at) {
      const rows = await db
        .update(agentCredentials)
        .set({ revokedAt: at })
        .where(and(eq(agentCredentials.agentId, agentId), isNull(agentCredentials.revokedAt)))
        .returning({ agentId: agentCredentials.agentId });
      if (rows.length > 0) return true;
      return (await getCredential(agentId)) !== undefined;
    },
  };
}
