// API principals by name: created once (first writer wins, race-free), read, listed, deleted.
import { eq } from 'drizzle-orm';
import type { Database } from './database.js';
import { StoreDecodeError } from './decode.js';
import { principals } from './schema.js';
import type { PrincipalRepository, StoredPrincipal } from './store.js';

type Row = typeof principals.$inferSelect;

function toPrincipal(row: Row): StoredPrincipal {
  if (!Array.isArray(row.grants)) {
    throw new StoreDecodeError(`principals row '${row.name}' holds grants that are not a list`);
  }
  return {
    name: row.name,
    secretHash: row.secretHash,
    grants: row.grants,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The principal repository on `db` (a database or a transaction). */
export function createPrincipalRepository(options: { db: Database }): PrincipalRepository {
  const { db } = options;

  return {
    async create({ name, secretHash, grants }) {
      // ON CONFLICT DO NOTHING: two masters bootstrapping at once insert one row, no error.
      const inserted = await db
        .insert(principals)
        .values({ name, secretHash, grants, createdAt: new Date() })
        .onConflictDoNothing({ target: principals.name })
        .returning({ name: principals.name });
      return inserted.length === 1;
    },

    async get(name) {
      const [row] = await db.select().from(principals).where(eq(principals.name, name));
      return row && toPrincipal(row);
    },

    async list() {
      const rows = await db.select().from(principals).orderBy(principals.name);
      return rows.map(toPrincipal);
    },

    async delete(name) {
      const deleted = await db
        .delete(principals)
        .where(eq(principals.name, name))
        .returning({ name: principals.name });
      return deleted.length === 1;
    },
  };
}
