// Runs a suite once per store driver: PGlite in memory, and a fresh database on the machine's
// Postgres (skipped loudly without it, failing under REQUIRE_SERVICES=1).
import { describe } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { createPgliteStore, createPostgresStore } from '../../src/store/index.js';
import { createTestDatabase, hasService } from './services.js';

/** Opens a fresh store for one suite; `dispose` closes it and drops what it created. */
export type OpenStore = () => Promise<{ store: Store; dispose: () => Promise<void> }>;

export async function describeOnEveryStore(
  describeSuite: (name: string, open: OpenStore) => void,
): Promise<void> {
  describeSuite('PGlite (in memory)', async () => {
    const store = await createPgliteStore();
    return { store, dispose: () => store.close() };
  });
  const hasPostgres = await hasService('postgres');
  describe.skipIf(!hasPostgres)('Postgres', () => {
    describeSuite('Postgres', async () => {
      const database = await createTestDatabase();
      const store = await createPostgresStore({ url: database.url });
      return {
        store,
        dispose: async () => {
          await store.close();
          await database.drop();
        },
      };
    });
  });
}
