// Quota and weights per role, keyed by role name (any valid Mesos role: `__proto__` included).
import { eq, sql } from 'drizzle-orm';
import type { RolePolicy } from '../domain/index.js';
import type { Database } from './database.js';
import { decodeObject } from './decode.js';
import { rolePolicies } from './schema.js';
import type { RolePolicyRepository } from './store.js';

/** The role policy repository on `db` (a database or a transaction). */
export function createRolePolicyRepository(options: { db: Database }): RolePolicyRepository {
  const { db } = options;
  return {
    async put(policy) {
      if (policy.quota === undefined && policy.weight === undefined) {
        await db.delete(rolePolicies).where(eq(rolePolicies.role, policy.role));
        return;
      }
      const row = { role: policy.role, quota: policy.quota ?? null, weight: policy.weight ?? null };
      await db
        .insert(rolePolicies)
        .values(row)
        .onConflictDoUpdate({
          target: rolePolicies.role,
          set: { quota: sql`excluded.quota`, weight: sql`excluded.weight` },
        });
    },

    async list() {
      const rows = await db.select().from(rolePolicies).orderBy(rolePolicies.role);
      return rows.map(policyOfRow);
    },
  };
}

/** A role policy row back to its `RolePolicy` (absent fields left out). */
export function policyOfRow(row: {
  role: string;
  quota: unknown;
  weight: number | null;
}): RolePolicy {
  const policy: RolePolicy = { role: row.role };
  if (row.quota !== null)
    policy.quota = decodeObject({
      table: 'role_policies',
      value: row.quota,
      key: row.role,
    }) as unknown as RolePolicy['quota'];
  if (row.weight !== null) policy.weight = row.weight;
  return policy;
}
