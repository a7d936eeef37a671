// Store on embedded Postgres (PGlite) for `pacer dev`: in memory, or persisted in a directory.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { createDrizzleStore } from './drizzle-store.js';
import { findMigrationsFolder } from './migrations-folder.js';
import { usePreparedStatements } from './pglite-prepared.js';
import { pgliteSendTogether } from './pglite-together.js';
import { readTemplate } from './pglite-template.js';
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
  const client = await openMigratedPglite(options.dataDir);
  const prepared = usePreparedStatements(client);
  return createDrizzleStore({
    db: drizzle({ client }),
    close: () => client.close(),
    sendTogether: pgliteSendTogether(client, prepared),
  });
}

/**
 * PGlite on `dataDir` (undefined = in memory) with every migration applied. A new database
 * starts from the build's template when there is one (`fromTemplate`, default true); migrating
 * afterwards is then a no-op, or applies what the template lacks.
 */
export async function openMigratedPglite(
  dataDir: string | undefined,
  options: { fromTemplate?: boolean } = {},
): Promise<PGlite> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const isNew = dataDir === undefined || !existsSync(join(dataDir, 'PG_VERSION'));
  const template = isNew && options.fromTemplate !== false ? await readTemplate() : undefined;
  const client = await PGlite.create({
    dataDir,
    startParams: START_PARAMS,
    ...(template ? { loadDataDir: template } : {}),
  });
  try {
    await migrate(drizzle({ client }), { migrationsFolder: findMigrationsFolder() });
    return client;
  } catch (error) {
    await client.close();
    throw error;
  }
}
