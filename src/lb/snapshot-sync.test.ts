import { describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/index.js';
import type { AppSnapshot } from './app-snapshot.js';
import { createSnapshotSync } from './snapshot-sync.js';

describe('snapshot sync', () => {
  it('reads once for a burst of asks, and once more for an ask made during a read', async () => {
    let reads = 0;
    let release: (() => void) | undefined;
    const applied: number[] = [];
    const sync = createSnapshotSync({
      read: async () => {
        reads += 1;
        const n = reads;
        if (n === 1) await new Promise<void>((resolve) => (release = resolve));
        return [{ id: `/read-${n}` } as AppSnapshot];
      },
      apply: () => applied.push(reads),
      logger: silentLogger(),
      debounceMs: 1,
    });
    const first = sync.settled();
    for (let i = 0; i < 10; i += 1) sync.request();
    await new Promise<void>((resolve) => {
      const check = () => (release ? resolve() : setImmediate(check));
      check();
    });
    // Asked while the first read runs: that read may predate what the ask is about.
    const second = sync.settled();
    sync.request();
    release?.();
    await first;
    await second;
    expect(reads).toBe(2);
    expect(applied).toEqual([1, 2]);
    sync.stop();
  });

  it('keeps retrying a read that fails', async () => {
    let reads = 0;
    const sync = createSnapshotSync({
      read: async () => {
        reads += 1;
        if (reads < 2) throw new Error('master down');
        return [];
      },
      apply: () => {},
      logger: silentLogger(),
      debounceMs: 1,
    });
    await sync.settled();
    expect(reads).toBe(2);
    expect(sync.lastSyncAt()).toBeInstanceOf(Date);
    sync.stop();
  });
});
