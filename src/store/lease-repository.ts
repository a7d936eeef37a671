// Named leases with an expiry (the leader lease): taken, renewed and released atomically, timed
// by the database's clock (`clock_timestamp()`), so a master whose own clock is off can neither
// keep a lease past its end nor take one early. A change of holder raises the term.
//
// A holder stopped in the middle of a statement (SIGSTOP, a partition that keeps its TCP
// connections open) keeps the lease's row locked: its renewal or a fenced write waits for its next
// protocol message, which never comes, and no server timeout of Postgres 15 ends that. So a
// master taking the lease, once blocked briefly, ends the sessions that block it when the lease
// has ended by the database's clock (their transactions roll back: nothing they wrote was
// acknowledged).
import { and, eq, gt, inArray, lte, or, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { rowsOf } from './json-rows.js';
import { leases } from './schema.js';
import type { LeaseRepository } from './store.js';

/** How often `acquire` retries when the lease is released between its write and its read. */
const ACQUIRE_ATTEMPTS = 3;

/** How long taking the lease waits for its row lock before looking for a stuck holder. */
const LOCK_WAIT_MS = 250;
/**
 * A blocker counts as stuck only after this long in its state: another master's own take, between
 * two statements of its transaction, must not be ended (the chaos suite saw that: it ended them).
 */
const STUCK_AFTER_MS = 1_000;
/** How long it waits in all before giving up (lock_timeout): the holder's writes hold the row. */
const LOCK_GIVE_UP_MS = 1_000;

/** Postgres' lock_not_available (lock_timeout), as postgres.js or drizzle's wrapper report it. */
function isLockTimeout(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return e?.code === '55P03' || e?.cause?.code === '55P03';
}

/** The database's now in epoch milliseconds. */
const DB_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The lease repository on `db` (a database or a transaction). */
export function createLeaseRepository(options: { db: Database }): LeaseRepository {
  const { db } = options;
  const current = { holder: leases.holder, term: leases.term };

  /**
   * One attempt to take the lease. While it is blocked, every LOCK_WAIT_MS, the sessions blocking
   * it are ended if the lease has ended (a holder stuck mid-transaction). With `isBrief` (not its
   * holder) it gives up after LOCK_GIVE_UP_MS: a live holder's writes hold the row, it still leads.
   */
  function take(
    { name, holder, ttlMs }: { name: string; holder: string; ttlMs: number },
    isBrief: boolean,
  ) {
    return db.transaction(async (tx) => {
      let watchdog: NodeJS.Timeout | undefined;
      if (isBrief) await tx.execute(sql.raw(`SET LOCAL lock_timeout = ${LOCK_GIVE_UP_MS}`));
      const pid = rowsOf(await tx.execute(sql`SELECT pg_backend_pid() AS pid`))[0]?.pid;
      if (pid !== undefined)
        watchdog = setInterval(() => void endStuckBlockers(Number(pid), name), LOCK_WAIT_MS);
      try {
        // FOR UPDATE, the one lock that waits for fenced writes' FOR KEY SHARE locks (`holds`):
        // no write of the last holder commits after this. ON CONFLICT below would lock the row
        // only FOR NO KEY UPDATE (no key column changes), which does not wait for them.
        await tx
          .select({ name: leases.name })
          .from(leases)
          .where(eq(leases.name, name))
          .for('update');
        for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
          // The conflicting row is locked by ON CONFLICT, so two masters cannot both win.
          const taken = await tx
            .insert(leases)
            .values({ name, holder, expiresAt: sql`${DB_NOW_MS} + ${ttlMs}`, term: 1 })
            .onConflictDoUpdate({
              target: leases.name,
              set: {
                holder: sql`excluded.holder`,
                expiresAt: sql`excluded.expires_at`,
                term: sql`CASE WHEN ${leases.holder} = excluded.holder THEN ${leases.term} ELSE ${leases.term} + 1 END`,
              },
              setWhere: or(
                lte(leases.expiresAt, DB_NOW_MS),
                eq(leases.holder, sql`excluded.holder`),
              ),
            })
            .returning(current);
          if (taken[0]) return { holder: taken[0].holder, term: Number(taken[0].term) };
          const [row] = await tx.select(current).from(leases).where(eq(leases.name, name));
          if (row) return { holder: row.holder, term: Number(row.term) };
          // Released between the two statements: try again.
        }
        throw new Error(`Lease ${name} kept changing hands while ${holder} tried to acquire it`);
      } finally {
        clearInterval(watchdog);
      }
    });
  }

  /**
   * Ends the sessions that block session `pid` (taking lease `name`), directly or through other
   * waiters (other takes queued behind a stuck fenced write), when the lease has ended by the
   * database's clock, unless they wait for a lock themselves (other masters taking it) or have been
   * in their state for less than STUCK_AFTER_MS: a holder stuck mid-transaction. Their transactions roll back. Nothing while the lease is live.
   */
  async function endStuckBlockers(pid: number, name: string): Promise<void> {
    await db
      .execute(
        sql`
      WITH RECURSIVE blocking(pid) AS (
        SELECT unnest(pg_blocking_pids(${pid}))
        UNION
        SELECT unnest(pg_blocking_pids(b.pid)) FROM blocking b
      )
      SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a
      WHERE a.pid IN (SELECT pid FROM blocking)
        AND a.wait_event_type IS DISTINCT FROM 'Lock'
        AND clock_timestamp() - a.state_change > ${`${STUCK_AFTER_MS} milliseconds`}::interval
        AND EXISTS (SELECT 1 FROM leases WHERE name = ${name} AND expires_at <= ${DB_NOW_MS})`,
      )
      .catch(() => undefined); // the next round tries again
  }

  /**
   * Its holder extends a live lease in one statement (no transaction, one round trip) that
   * changes no key column: its FOR NO KEY UPDATE lock and the FOR KEY SHARE locks of its own
   * fenced writes (`holds`) do not wait for each other, so writes do not queue behind renewals,
   * several a second. A change of hands still waits for those writes: `take` locks the row FOR
   * UPDATE, which conflicts with them. A row another master has locked is skipped (undefined):
   * `take` then waits with its watchdog.
   */
  async function renew({ name, holder, ttlMs }: { name: string; holder: string; ttlMs: number }) {
    const live = and(
      eq(leases.name, name),
      eq(leases.holder, holder),
      gt(leases.expiresAt, DB_NOW_MS),
    );
    const mine = db
      .select({ name: leases.name })
      .from(leases)
      .where(live)
      .for('no key update', { skipLocked: true });
    const [row] = await db
      .update(leases)
      .set({ expiresAt: sql`${DB_NOW_MS} + ${ttlMs}` })
      .where(and(live, inArray(leases.name, mine)))
      .returning(current);
    return row && { holder: row.holder, term: Number(row.term) };
  }

  return {
    async acquire(options) {
      const renewed = await renew(options);
      if (renewed) return renewed;
      // An ended lease, a row locked by another master's take, or none: its holder takes it
      // back after its own fenced writes; any other master waits briefly, then looks for a
      // stuck holder.
      const [row] = await db.select(current).from(leases).where(eq(leases.name, options.name));
      if (row?.holder === options.holder) return take(options, false);
      try {
        return await take(options, true);
      } catch (error) {
        if (!isLockTimeout(error)) throw error;
        // Locked by a live holder's writes: it holds the lease, as an unlocked read says.
        const [live] = await db
          .select(current)
          .from(leases)
          .where(and(eq(leases.name, options.name), gt(leases.expiresAt, DB_NOW_MS)));
        if (live) return { holder: live.holder, term: Number(live.term) };
        return take(options, true);
      }
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
        // KEY SHARE: a change of hands waits for this write to end; its holder's renewal does not.
        .for('key share');
      return rows.length === 1;
    },

    async requireHeld({ name, holder, term }) {
      // A division by zero when no row is held: computed from the rows, so the planner cannot
      // fold it into an error of every execution.
      await db.execute(sql`
        select 1 / count(*) from (
          select 1 from ${leases}
          where ${leases.name} = ${name} and ${leases.holder} = ${holder}
            and ${leases.term} = ${term} and ${leases.expiresAt} > ${DB_NOW_MS}
          for key share) as held`);
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
