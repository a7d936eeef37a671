// Secrets by path: sealed bytes only (the master seals before it writes), a version per write.
import { eq, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { secrets } from './schema.js';
import type { SecretMeta, SecretRepository } from './store.js';

/** The secret repository on `db` (a database or a transaction). */
export function createSecretRepository(options: { db: Database }): SecretRepository {
  const { db } = options;
  const meta = { path: secrets.path, version: secrets.version, updatedAt: secrets.updatedAt };
  const toMeta = (row: { path: string; version: number; updatedAt: Date }): SecretMeta => ({
    path: row.path,
    version: row.version,
    updatedAt: row.updatedAt.toISOString(),
  });

  return {
    async put(path, sealed) {
      // One statement: concurrent writes of one path each get their own version.
      const [row] = await db
        .insert(secrets)
        .values({ path, version: 1, sealed, updatedAt: new Date() })
        .onConflictDoUpdate({
          target: secrets.path,
          set: {
            version: sql`${secrets.version} + 1`,
            sealed,
            updatedAt: new Date(),
          },
        })
        .returning(meta);
      if (!row) throw new Error(`Secret ${path} was not written`);
      return toMeta(row);
    },

    async get(path) {
      const [row] = await db.select().from(secrets).where(eq(secrets.path, path));
      return row && { ...toMeta(row), sealed: row.sealed };
    },

    async list() {
      const rows = await db.select(meta).from(secrets).orderBy(secrets.path);
      return rows.map(toMeta);
    },

    async delete(path) {
      const deleted = await db
        .delete(secrets)
        .where(eq(secrets.path, path))
        .returning({ path: secrets.path });
      return deleted.length === 1;
    },
  };
}
