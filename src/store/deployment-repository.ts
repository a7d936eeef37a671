// Deployments in progress, keyed by id, listed in creation order.
import { eq, sql } from 'drizzle-orm';
import type { Deployment } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { jsonRows, lastOfEach } from './json-rows.js';
import { deployments } from './schema.js';
import type { DeploymentRepository } from './store.js';

/** The deployment repository on `db` (a database or a transaction). */
export function createDeploymentRepository(options: { db: Database }): DeploymentRepository {
  const { db } = options;
  const decode = (value: unknown, key: string) =>
    decodeRecord<Deployment>({ table: 'deployments', value, keyField: 'id', key });

  const upsert = async (batch: Deployment[]) => {
    for (const deployment of batch) {
      if (Number.isNaN(new Date(deployment.createdAt).getTime())) {
        throw new RangeError(`Deployment ${deployment.id} has an invalid createdAt`);
      }
    }
    await db.execute(sql`
      insert into ${deployments} (id, created_at, data)
      select d->>'id', (d->>'createdAt')::timestamptz, d
      from ${jsonRows(batch)} as d
      on conflict (id) do update set created_at = excluded.created_at, data = excluded.data`);
  };

  return {
    async put(deployment) {
      await upsert([deployment]);
    },

    async putMany(list) {
      const unique = lastOfEach(list, (d) => d.id);
      if (unique.length > 0) await upsert(unique);
    },

    async get(id) {
      const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
      return row && decode(row.data, row.id);
    },

    async list() {
      const rows = await db
        .select()
        .from(deployments)
        .orderBy(deployments.createdAt, deployments.id);
      return rows.map((row) => decode(row.data, row.id));
    },

    async delete(id) {
      await db.delete(deployments).where(eq(deployments.id, id));
    },

    async deleteMany(ids) {
      // The ids as one JSON parameter: one statement text whatever their number, prepared once
      // per connection (an `in ($1, …, $n)` per count costs a describe round trip each).
      if (ids.length > 0)
        await db
          .delete(deployments)
          .where(
            sql`${deployments.id} in (select json_array_elements_text(${JSON.stringify(ids)}::json))`,
          );
    },
  };
}
