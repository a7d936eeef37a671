// Apps and their versions: `apps` holds the current definition, `app_versions` every version,
// `app_task_failures` the latest failed task of each.
import { desc, and, eq, sql } from 'drizzle-orm';
import type { AppDefinition, TaskFailure } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { jsonRows, lastOfEach } from './json-rows.js';
import { appTaskFailures, apps, appVersions } from './schema.js';
import type { AppRepository } from './store.js';

/**
 * The app repository on `db` (a database or a transaction). `isTransaction`: `db` is one, so the
 * writes spanning several tables need no savepoint of their own (two statements fewer each; a
 * failed one fails the whole transaction, which rolls back anyway).
 */
export function createAppRepository(options: {
  db: Database;
  isTransaction?: boolean;
}): AppRepository {
  const { db } = options;
  const atomically = <T>(fn: (tx: Database) => Promise<T>): Promise<T> =>
    options.isTransaction ? fn(db) : db.transaction(fn);
  const decode = (value: unknown, key: string) =>
    decodeRecord<AppDefinition>({ table: 'apps', value, keyField: 'id', key });

  /** Both tables in one statement (atomic by itself); `batch` holds distinct ids. */
  const upsert = async (batch: AppDefinition[]) => {
    await db.execute(sql`
      with rows as (select value as app from ${jsonRows(batch)}),
        current as (
          insert into ${apps} (id, version, definition)
          select app->>'id', app->>'version', app from rows
          on conflict (id) do update
            set version = excluded.version, definition = excluded.definition)
      insert into ${appVersions} (app_id, version, definition)
      select app->>'id', app->>'version', app from rows
      on conflict (app_id, version) do update set definition = excluded.definition`);
  };

  return {
    async put(app) {
      await upsert([app]);
    },

    async putMany(list) {
      const unique = lastOfEach(list, (app) => app.id);
      if (unique.length > 0) await upsert(unique);
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
      return atomically(async (tx) => {
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
