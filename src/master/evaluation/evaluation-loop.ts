// The leader's control loop: runs passes (run-pass.ts) on every kick, coalesced, for the apps
// kicked, and on a timer for every app. State comes from the applier's memory, so a pass
// without changes does no I/O.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../lib/index.js';
import type { PassDeps } from './run-pass.js';
import { runPass } from './run-pass.js';

export interface EvaluationLoop {
  /**
   * Asks for a pass soon; many kicks before it runs make one pass. With `appIds` the pass
   * reconciles those apps (and those of running deployments) only; without, every app.
   */
  kick(appIds?: readonly string[]): void;
  /** One full pass now (tests, start-up). */
  runOnce(): Promise<void>;
  start(): void;
  /** Resolves when the pass in progress has ended. */
  stop(): Promise<void>;
}

export interface EvaluationLoopOptions extends PassDeps {
  clock: Clock;
  intervalMs?: number;
  /** The seed of each pass; random by default (tests pass their own). */
  seed?: () => string;
  /** Told how long each pass took, in seconds (metrics). */
  observePass?: (seconds: number) => void;
  /** Called when a pass fails; the master treats it as fatal (restart from persisted state). */
  onFatal: (error: unknown) => void;
}

export function createEvaluationLoop(options: EvaluationLoopOptions): EvaluationLoop {
  const { clock } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const seed = options.seed ?? (() => randomUUID());
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  /**
   * Apps the next pass reconciles. A kick names the apps it changed, so a pass after one POST
   * costs one app, not thousands; the timer's pass takes them all, which is what catches
   * changes that come with time alone (backoff elapsed, unreachable timeouts).
   */
  let dirty: Set<string> | 'all' = 'all';

  function markDirty(appIds?: readonly string[]): void {
    if (!appIds) dirty = 'all';
    else if (dirty !== 'all') for (const id of appIds) dirty.add(id);
  }

  async function pass(): Promise<void> {
    const kicked = dirty;
    dirty = new Set();
    const startedAt = performance.now();
    try {
      const outcome = await runPass(options, {
        scope: kicked === 'all' ? 'all' : [...kicked],
        now: clock.now(),
        seed: seed(),
      });
      // Refused intents met a newer state: the next pass decides again from it.
      if (outcome.isDeploymentRefused) markDirty();
      else markDirty(outcome.retry);
      if (outcome.retry.length > 0 || outcome.isDeploymentRefused) again = true;
      options.observePass?.((performance.now() - startedAt) / 1000);
    } catch (error) {
      // The next pass (after recovery) must not skip what this one failed to do.
      markDirty();
      throw error;
    }
  }

  function run(): void {
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((error: unknown) => options.onFatal(error))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          run();
        }
      });
  }

  return {
    kick(appIds) {
      markDirty(appIds);
      if (stopped) return;
      if (running) again = true;
      else setImmediate(run);
    },
    async runOnce() {
      await running;
      markDirty();
      await pass();
    },
    start() {
      stopped = false;
      markDirty();
      timer = setInterval(() => {
        markDirty();
        run();
      }, intervalMs);
      run();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
