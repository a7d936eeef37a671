// Artifact collection on both stores: an artifact no stored app version names is deleted once it
// has been unreferenced for the grace period (and is at least that old); one that any version
// names, current or past, is kept; the delete re-checks references itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeApp } from '../src/api/v2/wire/app-normalize.js';
import type { AppDefinition } from '../src/domain/index.js';
import { silentLogger } from '../src/lib/index.js';
import { createArtifactCollector } from '../src/master/artifact-collector.js';
import type { Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';

const GRACE_MS = 60_000;
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function appUsing(id: string, version: string, digest: string): AppDefinition {
  const result = normalizeApp(
    { id, cmd: 'm.wasm', fetch: [{ uri: `http://master:8080/v2/artifacts/${digest}/m.wasm` }] },
    { id, features: { secrets: false } },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return {
    ...result.value,
    version,
    versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
  };
}

await describeOnEveryStore((name: string, open: OpenStore) => {
  describe(`artifact collection on ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => dispose());

    it('collects only what no app version names, after the grace period', async () => {
      const bytes = new Uint8Array([0, 97, 115, 109]);
      const [current, past, orphan] = [digestOf(1), digestOf(2), digestOf(3)];
      for (const digest of [current, past, orphan]) await store.artifacts.put({ digest, bytes });
      // /app's current version names `current`; its earlier one names `past` (a rollback needs it).
      await store.apps.put(appUsing('/app', '2026-01-01T00:00:00.000Z', past));
      await store.apps.put(appUsing('/app', '2026-01-02T00:00:00.000Z', current));
      expect(await store.artifacts.referenced()).toEqual(new Set([current, past]));

      let now = Date.now();
      const collector = createArtifactCollector({
        store,
        clock: { now: () => now },
        logger: silentLogger(),
        graceMs: GRACE_MS,
      });
      expect(await collector.sweep()).toEqual([]); // the orphan's grace starts now
      now += GRACE_MS - 1;
      expect(await collector.sweep()).toEqual([]);
      now += 1;
      expect(await collector.sweep()).toEqual([orphan]);
      expect(await store.artifacts.get(orphan)).toBeUndefined();
      expect(await store.artifacts.get(past)).toBeDefined();

      // Deleting the app frees both; each gets its own full grace from then.
      await store.apps.delete('/app');
      expect(await collector.sweep()).toEqual([]);
      now += GRACE_MS / 2;
      // Re-created in time: `current` is named again and stays.
      await store.apps.put(appUsing('/again', '2026-01-03T00:00:00.000Z', current));
      now += GRACE_MS / 2;
      expect(await collector.sweep()).toEqual([past]);
      expect((await store.artifacts.list()).map((a) => a.digest)).toEqual([current]);
    });

    it('keeps a new upload for the grace period, and never deletes a named artifact', async () => {
      const fresh = digestOf(10);
      await store.artifacts.put({ digest: fresh, bytes: new Uint8Array([1]) });
      const collector = createArtifactCollector({
        store,
        clock: { now: () => Date.now() - GRACE_MS },
        logger: silentLogger(),
        graceMs: 0,
      });
      // Unreferenced "for long" by this clock, but uploaded after its now: kept.
      expect(await collector.sweep()).toEqual([]);
      // The statement itself refuses a digest that an app version names (a create racing a sweep).
      await store.apps.put(appUsing('/late', '2026-01-04T00:00:00.000Z', fresh));
      expect(await store.artifacts.deleteUnreferenced(fresh)).toBe(false);
      expect(await store.artifacts.get(fresh)).toBeDefined();
      await store.apps.delete('/late');
      expect(await store.artifacts.deleteUnreferenced(fresh)).toBe(true);
    });
  });
});
