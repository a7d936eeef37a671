// Named leases with an expiry (the leader lease): taken, renewed and released atomically.
import { and, eq, gt, lte, or, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { leases } from './schema.js';
import type { LeaseRepository } from './store.js';

/** How often `acquire` retries when the lease is released between its write and its read. */
const ACQUIRE_ATTEMPTS = 3;

/** The lease repository on `db` (a database or a transaction). */
export function createLeaseRepository(options: { db: Database }): LeaseRepository {
  const { db } = options;

  return {
    async acquire({ name, holder, ttlMs, now }) {
      for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
        // The conflicting row is locked by ON CONFLICT, so two masters cannot both win.
        const taken = await db
          .insert(leases)
          .values({ name, holder, expiresAt: now + ttlMs })
          .onConflictDoUpdate({
            target: leases.name,
            set: { holder: sql`excluded.holder`, expiresAt: sql`excluded.expires_at` },
            setWhere: or(lte(leases.expiresAt, now), eq(leases.holder, sql`excluded.holder`)),
          })
          .returning({ holder: leases.holder });
        if (taken[0]) return taken[0].holder;
        const [current] = await db
          .select({ holder: leases.holder })
          .from(leases)
          .where(eq(leases.name, name));
        if (current) return current.holder;
        // Released between the two statements: try again.
      }
      throw new Error(`Lease ${name} kept changing hands while ${holder} tried to acquire it`);
    },

    async release({ name, holder }) {
      await db.delete(leases).where(and(eq(leases.name, name), eq(leases.holder, holder)));
    },

    async holder({ name, now }) {
      const [row] = await db
        .select({ holder: leases.holder })
        .from(leases)
        .where(and(eq(leases.name, name), gt(leases.expiresAt, now)));
      return row?.holder;
    },
  };
}
