// Re-reads the apps from the master when asked, coalescing asks: at most one read in flight,
// and an ask that comes during a read causes exactly one more read after it (so a read that
// started before an event never stands as the last word on it).
import type { Logger } from '../lib/index.js';
import type { AppSnapshot } from './app-snapshot.js';

export interface SnapshotSync {
  /** Ask for a fresh snapshot soon. Cheap; call it for every event that may add a backend. */
  request(): void;
  /** Resolves once a snapshot started after this call has been applied. */
  settled(): Promise<void>;
  lastSyncAt(): Date | undefined;
  stop(): void;
}

export function createSnapshotSync(options: {
  read(): Promise<AppSnapshot[]>;
  apply(apps: AppSnapshot[]): void;
  logger: Logger;
  /** Wait this long after an ask so a burst of events costs one read. */
  debounceMs?: number;
}): SnapshotSync {
  const debounceMs = options.debounceMs ?? 20;
  let running = false;
  let dirty = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastSync: Date | undefined;
  let generation = 0;
  let waiters: { after: number; resolve: () => void }[] = [];

  async function run(): Promise<void> {
    running = true;
    let failures = 0;
    while (dirty && !stopped) {
      dirty = false;
      const started = ++generation;
      try {
        options.apply(await options.read());
        failures = 0;
        lastSync = new Date();
        const done = waiters.filter((w) => w.after < started);
        waiters = waiters.filter((w) => w.after >= started);
        for (const w of done) w.resolve();
      } catch (error) {
        failures += 1;
        options.logger.warn({ err: error }, 'could not read the apps from the master; retrying');
        dirty = true;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 5_000)));
      }
    }
    running = false;
  }

  function request(): void {
    dirty = true;
    if (running || timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!running) void run();
    }, debounceMs);
  }

  return {
    request,
    settled() {
      return new Promise((resolve) => {
        waiters.push({ after: generation, resolve });
        request();
      });
    },
    lastSyncAt: () => lastSync,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
