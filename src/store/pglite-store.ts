// Store on embedded Postgres (PGlite) for `pacer dev`: in memory, or persisted in a directory.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { createDrizzleStore } from './drizzle-store.js';
import { findMigrationsFolder } from './migrations-folder.js';
import type { Store } from './store.js';

/**
 * PGlite keeps Postgres' default 128 MB of shared buffers inside its Wasm heap, and a fresh
 * database runs a second, temporary instance for initdb. 16 MB is ample for one dev master and
 * takes about 150 MB (fresh) and 100 MB (reopen) off the process's RSS.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export interface PgliteStoreOptions {
  /** Directory holding the database, created if missing; undefined = in memory. */
  dataDir?: string;
}

/**
 * Opens PGlite, applies pending migrations and returns the Store. One process at a time may open
 * a dataDir (PGlite is single-connection), so no migration lock is needed here.
 */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<Store> {
  const { dataDir } = options;
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir, startParams: START_PARAMS });
  try {
    const db = drizzle({ client });
    await migrate(db, { migrationsFolder: findMigrationsFolder() });
    return createDrizzleStore({ db, close: () => client.close() });
  } catch (error) {
    await client.close();
    throw error;
  }
}
