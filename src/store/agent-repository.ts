// Agents as the master knows them, keyed by agent id.
import { eq, sql } from 'drizzle-orm';
import type { Agent } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { agentDrains, agents } from './schema.js';
import type { AgentRepository } from './store.js';

/** The agent repository on `db` (a database or a transaction). */
export function createAgentRepository(options: { db: Database }): AgentRepository {
  const { db } = options;
  const decode = (value: unknown, key: string) =>
    decodeRecord<Agent>({ table: 'agents', value, keyField: 'agentId', key });

  return {
    async put(agent) {
      await db
        .insert(agents)
        .values({ agentId: agent.agentId, data: agent })
        .onConflictDoUpdate({ target: agents.agentId, set: { data: sql`excluded.data` } });
    },

    async get(agentId) {
      const [row] = await db.select().from(agents).where(eq(agents.agentId, agentId));
      return row && decode(row.data, row.agentId);
    },

    async list() {
      const rows = await db.select().from(agents).orderBy(agents.agentId);
      return rows.map((row) => decode(row.data, row.agentId));
    },

    async delete(agentId) {
      await db.delete(agents).where(eq(agents.agentId, agentId));
    },

    async setDrain(agentId, since) {
      if (since === null) await db.delete(agentDrains).where(eq(agentDrains.agentId, agentId));
      else
        await db
          .insert(agentDrains)
          .values({ agentId, since })
          .onConflictDoUpdate({ target: agentDrains.agentId, set: { since } });
    },

    async listDrains() {
      const rows = await db.select().from(agentDrains);
      return new Map(rows.map((row) => [row.agentId, row.since]));
    },
  };
}
