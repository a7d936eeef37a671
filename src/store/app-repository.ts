// Apps and their versions: `apps` holds the current definition, `app_versions` every version,
// `app_task_failures` the latest failed task of each.
import { desc, and, eq, sql } from 'drizzle-orm';
import type { AppDefinition, TaskFailure } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { appTaskFailures, apps, appVersions } from './schema.js';
import type { AppRepository } from './store.js';

/** The app repository on `db` (a database or a transaction). */
export function createAppRepository(options: { db: Database }): AppRepository {
  const { db } = options;
  const decode = (value: unknown, key: string) =>
    decodeRecord<AppDefinition>({ table: 'apps', value, keyField: 'id', key });

  return {
    async put(app) {
      // Both rows or neither: a savepoint when already inside a transaction.
      await db.transaction(async (tx) => {
        await tx
          .insert(apps)
          .values({ id: app.id, version: app.version, definition: app })
          .onConflictDoUpdate({
            target: apps.id,
            set: { version: sql`excluded.version`, definition: sql`excluded.definition` },
          });
        await tx
          .insert(appVersions)
          .values({ appId: app.id, version: app.version, definition: app })
          .onConflictDoUpdate({
            target: [appVersions.appId, appVersions.version],
            set: { definition: sql`excluded.definition` },
          });
      });
    },

    async get(id) {
      const [row] = await db.select().from(apps).where(eq(apps.id, id));
      return row && decode(row.definition, row.id);
    },

    async list() {
      const rows = await db.select().from(apps).orderBy(apps.id);
      return rows.map((row) => decode(row.definition, row.id));
    },

    async delete(id) {
      return db.transaction(async (tx) => {
        const deleted = await tx.delete(apps).where(eq(apps.id, id)).returning({ id: apps.id });
        await tx.delete(appVersions).where(eq(appVersions.appId, id));
        await tx.delete(appTaskFailures).where(eq(appTaskFailures.appId, id));
        return deleted.length > 0;
      });
    },

    async versions(id) {
      // Versions are ISO-8601 UTC timestamps of one length, so text order is time order.
      const rows = await db
        .select({ version: appVersions.version })
        .from(appVersions)
        .where(eq(appVersions.appId, id))
        .orderBy(desc(appVersions.version));
      return rows.map((row) => row.version);
    },

    async getVersion(id, version) {
      const [row] = await db
        .select()
        .from(appVersions)
        .where(and(eq(appVersions.appId, id), eq(appVersions.version, version)));
      return row && decode(row.definition, row.appId);
    },

    async setLastTaskFailure(failure) {
      await db
        .insert(appTaskFailures)
        .values({ appId: failure.appId, data: failure })
        .onConflictDoUpdate({ target: appTaskFailures.appId, set: { data: sql`excluded.data` } });
    },

    async getLastTaskFailure(appId) {
      const [row] = await db.select().from(appTaskFailures).where(eq(appTaskFailures.appId, appId));
      return (
        row &&
        decodeRecord<TaskFailure>({
          table: 'app_task_failures',
          value: row.data,
          keyField: 'appId',
          key: row.appId,
        })
      );
    },
  };
}
