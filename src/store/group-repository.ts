// Records of top-level groups that enforce their role, keyed by group id (`/web`).
import { eq, sql } from 'drizzle-orm';
import type { GroupRecord } from '../domain/index.js';
import type { Database } from './database.js';
import { groups } from './schema.js';
import type { GroupRepository } from './store.js';

/** The group repository on `db` (a database or a transaction). */
export function createGroupRepository(options: { db: Database }): GroupRepository {
  const { db } = options;
  return {
    async put(record) {
      if (!record.enforceRole) {
        await db.delete(groups).where(eq(groups.id, record.id));
        return;
      }
      await db
        .insert(groups)
        .values({ id: record.id, enforceRole: record.enforceRole })
        .onConflictDoUpdate({
          target: groups.id,
          set: { enforceRole: sql`excluded.enforce_role` },
        });
    },

    async list() {
      const rows = await db.select().from(groups).orderBy(groups.id);
      return rows.map((row): GroupRecord => ({ id: row.id, enforceRole: row.enforceRole }));
    },
  };
}
