// Store on a Postgres server through the `postgres` driver: migrates under an advisory lock, then
// serves from a connection pool.
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Logger } from '../lib/logger.js';
import type { Database } from './database.js';
import { createDrizzleStore } from './drizzle-store.js';
import { findMigrationsFolder } from './migrations-folder.js';
import { commitTogether, pipelinedClient } from './pipelined-client.js';
import { reserveConnection } from './reserved-connections.js';
import { postgresConnection } from './postgres-tls.js';
import type { PostgresConnection } from './postgres-tls.js';
import type { Store } from './store.js';

/** Advisory lock key held while migrating ("pacer" + "mig" in ASCII; any fixed bigint works). */
const MIGRATION_LOCK_KEY = 0x706163_6d6967;

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db` */
  url: string;
  logger?: Logger;
  /** Pool size (default 10). */
  maxConnections?: number;
}

/** Opens a pool on `url`, applies pending migrations and returns the Store. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { logger } = options;
  const connection = postgresConnection(options.url);
  // Postgres NOTICEs (e.g. "schema already exists") go to the logger, never to the console.
  const onnotice = (notice: postgres.Notice) => logger?.debug({ notice }, 'postgres notice');
  await migrateUnderLock({ connection, onnotice, logger });
  const client = postgres(connection.url, {
    max: options.maxConnections ?? 10,
    backoff: reconnectDelaySeconds,
    onnotice,
    ...(connection.ssl ? { ssl: connection.ssl } : {}),
  });
  // Prepared statements, BEGIN sent with the first statement (pipelined-client.ts).
  const reserve = () => reserveConnection(client);
  const db: Database = drizzle({ client: pipelinedClient(client, reserve) });
  return createDrizzleStore({
    db,
    // Bounded: after an outage postgres.js can wait forever on a connection it never finished
    // opening (a master's shutdown hung on it); after 5 s the rest is cut off.
    close: () => client.end({ timeout: 5 }),
    sendTogether: (issue) =>
      commitTogether(client, reserve, (inside) => issue(drizzle({ client: inside }))),
  });
}

/**
 * Seconds before a pool connection reconnects after an error: 25 ms doubling to 0.25 s, jittered.
 * postgres.js's own default grows as 3^n / 100 s, up to 20 s, and counts every failure of every
 * connection in the pool: after a 5 s outage the pool waited 10-20 s more before trying, longer
 * than a leader's lease, so no master could lead until it did (the chaos suite's Postgres fault).
 */
function reconnectDelaySeconds(retries: number): number {
  return Math.min(0.025 * 2 ** retries, 0.25) * (0.5 + Math.random() / 2);
}

/**
 * drizzle's migrator reads the last applied migration before its transaction, so two masters
 * starting together would both apply it and one would fail on CREATE TABLE. A session advisory
 * lock on a dedicated connection makes them take turns; the second then finds nothing to do.
 */
async function migrateUnderLock(options: {
  connection: PostgresConnection;
  onnotice: (notice: postgres.Notice) => void;
  logger: Logger | undefined;
}): Promise<void> {
  const { connection, onnotice, logger } = options;
  const started = performance.now();
  const client = postgres(connection.url, {
    max: 1,
    onnotice,
    ...(connection.ssl ? { ssl: connection.ssl } : {}),
  });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(drizzle({ client }), { migrationsFolder: findMigrationsFolder() });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    // Ending the session also drops the lock if a migration failed.
    await client.end();
  }
  logger?.info({ ms: Math.round(performance.now() - started) }, 'store migrations applied');
}
