// The agent's artifact cache on disk: files named by digest, least recently used evicted once
// their bytes pass a bound. Tasks never see these files, only copies of them.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ArtifactCache {
  /** The cached file of `digest` and its size, marked as just used, or undefined. */
  lookup(digest: string): { file: string; size: number } | undefined;
  /** Records a file just renamed into place as `digest`, then evicts down to the bound. */
  add(digest: string, sizeBytes: number): Promise<void>;
  /**
   * Keeps `digest` from eviction (a copy is under way) until the returned function is called,
   * which evicts what the pin held over the bound. Call it exactly once.
   */
  pin(digest: string): () => Promise<void>;
  /** Bytes the cached files hold. */
  sizeBytes(): number;
}

export const fileOf = (dir: string, digest: string) => path.join(dir, `sha256-${digest}`);

/**
 * Opens the cache in `dir` (made by the caller), taking in the files an earlier agent process
 * left there, oldest modification first, and removing unfinished downloads.
 */
export async function openArtifactCache(options: {
  dir: string;
  maxBytes: number;
}): Promise<ArtifactCache> {
  const { dir, maxBytes } = options;
  /** Insertion order is use order: a use deletes and re-inserts. */
  const files = new Map<string, number>();
  const pins = new Map<string, number>();
  let total = 0;

  const found: { digest: string; size: number; mtimeMs: number }[] = [];
  for (const name of await readdir(dir)) {
    const match = /^sha256-([0-9a-f]{64})$/.exec(name);
    if (!match) {
      if (name.endsWith('.part')) await rm(path.join(dir, name), { force: true });
      continue;
    }
    const info = await stat(path.join(dir, name));
    found.push({ digest: match[1] as string, size: info.size, mtimeMs: info.mtimeMs });
  }
  found.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const { digest, size } of found) {
    files.set(digest, size);
    total += size;
  }

  /** Removes least recently used files down to the bound; never a pinned one or `keep`. */
  async function evict(keep?: string): Promise<void> {
    for (const [digest, size] of files) {
      if (total <= maxBytes) return;
      if (pins.has(digest) || digest === keep) continue;
      files.delete(digest);
      total -= size;
      await rm(fileOf(dir, digest), { force: true });
    }
  }
  await evict();

  return {
    lookup(digest) {
      const size = files.get(digest);
      if (size === undefined) return undefined;
      files.delete(digest);
      files.set(digest, size);
      return { file: fileOf(dir, digest), size };
    },
    async add(digest, sizeBytes) {
      total -= files.get(digest) ?? 0;
      files.delete(digest);
      files.set(digest, sizeBytes);
      total += sizeBytes;
      // The new file stays until its first copy is made (the pin then evicts it if it is over).
      await evict(digest);
    },
    pin(digest) {
      pins.set(digest, (pins.get(digest) ?? 0) + 1);
      return async () => {
        const left = (pins.get(digest) ?? 1) - 1;
        if (left > 0) pins.set(digest, left);
        else pins.delete(digest);
        await evict();
      };
    },
    sizeBytes: () => total,
  };
}
