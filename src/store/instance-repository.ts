// Instances: the latest state of each, keyed by instance id, looked up by app.
import { eq, sql } from 'drizzle-orm';
import type { Instance } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { jsonRows, lastOfEach } from './json-rows.js';
import { instances } from './schema.js';
import type { InstanceRepository } from './store.js';
import { INSTANCES_PER_STATEMENT } from './store.js';

/** The instance repository on `db` (a database or a transaction). */
export function createInstanceRepository(options: { db: Database }): InstanceRepository {
  const { db } = options;
  const decode = (value: unknown, key: string) =>
    decodeRecord<Instance>({ table: 'instances', value, keyField: 'instanceId', key });

  const upsert = async (batch: Instance[]) => {
    await db.execute(sql`
      insert into ${instances} (instance_id, app_id, agent_id, data)
      select row->>'instanceId', row->>'appId', row->>'agentId', row
      from ${jsonRows(batch)} as row
      on conflict (instance_id) do update
        set app_id = excluded.app_id, agent_id = excluded.agent_id, data = excluded.data`);
  };

  return {
    async put(instance) {
      await upsert([instance]);
    },

    async putMany(list) {
      const unique = lastOfEach(list, (instance) => instance.instanceId);
      if (unique.length <= INSTANCES_PER_STATEMENT) {
        if (unique.length > 0) await upsert(unique);
        return;
      }
      await db.transaction(async (tx) => {
        const inTx = createInstanceRepository({ db: tx });
        for (let i = 0; i < unique.length; i += INSTANCES_PER_STATEMENT) {
          await inTx.putMany(unique.slice(i, i + INSTANCES_PER_STATEMENT));
        }
      });
    },

    async get(instanceId) {
      const [row] = await db.select().from(instances).where(eq(instances.instanceId, instanceId));
      return row && decode(row.data, row.instanceId);
    },

    async listByApp(appId) {
      const rows = await db
        .select()
        .from(instances)
        .where(eq(instances.appId, appId))
        .orderBy(instances.instanceId);
      return rows.map((row) => decode(row.data, row.instanceId));
    },

    async list() {
      const rows = await db.select().from(instances).orderBy(instances.instanceId);
      return rows.map((row) => decode(row.data, row.instanceId));
    },

    async delete(instanceId) {
      await db.delete(instances).where(eq(instances.instanceId, instanceId));
    },
  };
}
