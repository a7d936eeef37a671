// Collects artifacts nothing refers to: an artifact no stored app version names, for a whole grace
// period and at least that long after its upload, is deleted. The grace lets a client upload a
// module before creating the app that uses it, and re-create an app soon after deleting it.
// The "unreferenced since" times live in the leader's memory: a new leader starts them afresh,
// which only ever delays a deletion. The delete itself re-checks references in its statement.
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';

/** Default grace period: a day. */
export const DEFAULT_ARTIFACT_GRACE_MS = 24 * 60 * 60 * 1000;

export interface ArtifactCollector {
  /** One pass; answers the digests deleted. */
  sweep(): Promise<string[]>;
  /** Sweeps every `intervalMs` until `stop`. */
  start(intervalMs: number): void;
  stop(): void;
}

export function createArtifactCollector(options: {
  store: Pick<Store, 'artifacts'>;
  clock: Clock;
  logger: Logger;
  graceMs: number;
}): ArtifactCollector {
  const { store, clock, logger, graceMs } = options;
  const unreferencedSince = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<string[]> {
    const now = clock.now();
    const [stored, referenced] = await Promise.all([
      store.artifacts.list(),
      store.artifacts.referenced(),
    ]);
    const present = new Set<string>();
    const deleted: string[] = [];
    for (const artifact of stored) {
      present.add(artifact.digest);
      if (referenced.has(artifact.digest)) {
        unreferencedSince.delete(artifact.digest);
        continue;
      }
      const since = unreferencedSince.get(artifact.digest) ?? now;
      unreferencedSince.set(artifact.digest, since);
      const isOld = now - Date.parse(artifact.createdAt) >= graceMs;
      if (
        isOld &&
        now - since >= graceMs &&
        (await store.artifacts.deleteUnreferenced(artifact.digest))
      ) {
        deleted.push(artifact.digest);
        unreferencedSince.delete(artifact.digest);
      }
    }
    for (const digest of unreferencedSince.keys())
      if (!present.has(digest)) unreferencedSince.delete(digest);
    if (deleted.length > 0) logger.info({ deleted }, 'unreferenced artifacts collected');
    return deleted;
  }

  return {
    sweep,
    start(intervalMs) {
      timer ??= setInterval(() => {
        sweep().catch((error: unknown) =>
          logger.error({ err: error }, 'artifact collection failed'),
        );
      }, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
