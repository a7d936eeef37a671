// Deployments in progress, keyed by id, listed in creation order.
import { eq, sql } from 'drizzle-orm';
import type { Deployment } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { deployments } from './schema.js';
import type { DeploymentRepository } from './store.js';

/** The deployment repository on `db` (a database or a transaction). */
export function createDeploymentRepository(options: { db: Database }): DeploymentRepository {
  const { db } = options;
  const decode = (value: unknown, key: string) =>
    decodeRecord<Deployment>({ table: 'deployments', value, keyField: 'id', key });

  return {
    async put(deployment) {
      const createdAt = new Date(deployment.createdAt);
      if (Number.isNaN(createdAt.getTime())) {
        throw new RangeError(`Deployment ${deployment.id} has an invalid createdAt`);
      }
      await db
        .insert(deployments)
        .values({ id: deployment.id, createdAt, data: deployment })
        .onConflictDoUpdate({
          target: deployments.id,
          set: { createdAt: sql`excluded.created_at`, data: sql`excluded.data` },
        });
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
  };
}
