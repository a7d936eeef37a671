// Named leases with an expiry (the leader lease): taken, renewed and released atomically, timed
// by the database's clock (`clock_timestamp()`), so a master whose own clock is off can neither
// keep a lease past its end nor take one early. A change of holder raises the term.
import { and, eq, gt, lte, or, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { leases } from './schema.js';
import type { LeaseRepository } from './store.js';

/** How often `acquire` retries when the lease is released between its write and its read. */
const ACQUIRE_ATTEMPTS = 3;

/** The database's now in epoch milliseconds. */
const DB_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The lease repository on `db` (a database or a transaction). */
export function createLeaseRepository(options: { db: Database }): LeaseRepository {
  const { db } = options;
  const current = { holder: leases.holder, term: leases.term };

  return {
    async acquire({ name, holder, ttlMs }) {
      for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
        // The conflicting row is locked by ON CONFLICT, so two masters cannot both win.
        const taken = await db
          .insert(leases)
          .values({ name, holder, expiresAt: sql`${DB_NOW_MS} + ${ttlMs}`, term: 1 })
          .onConflictDoUpdate({
            target: leases.name,
            set: {
              holder: sql`excluded.holder`,
              expiresAt: sql`excluded.expires_at`,
              term: sql`CASE WHEN ${leases.holder} = excluded.holder THEN ${leases.term} ELSE ${leases.term} + 1 END`,
            },
            setWhere: or(lte(leases.expiresAt, DB_NOW_MS), eq(leases.holder, sql`excluded.holder`)),
          })
          .returning(current);
        if (taken[0]) return { holder: taken[0].holder, term: Number(taken[0].term) };
        const [row] = await db.select(current).from(leases).where(eq(leases.name, name));
        if (row) return { holder: row.holder, term: Number(row.term) };
        // Released between the two statements: try again.
      }
      throw new Error(`Lease ${name} kept changing hands while ${holder} tried to acquire it`);
    },

    async release({ name, holder }) {
      await db
        .update(leases)
        .set({ expiresAt: 0 })
        .where(and(eq(leases.name, name), eq(leases.holder, holder)));
    },

    async holds({ name, holder, term }) {
      const rows = await db
        .select({ term: leases.term })
        .from(leases)
        .where(
          and(
            eq(leases.name, name),
            eq(leases.holder, holder),
            eq(leases.term, term),
            gt(leases.expiresAt, DB_NOW_MS),
          ),
        )
        .for('share');
      return rows.length === 1;
    },

    async holder({ name }) {
      const [row] = await db
        .select(current)
        .from(leases)
        .where(and(eq(leases.name, name), gt(leases.expiresAt, DB_NOW_MS)));
      return row && { holder: row.holder, term: Number(row.term) };
    },
  };
}
