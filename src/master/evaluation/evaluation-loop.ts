// The leader's control loop: runs passes (run-pass.ts) on every kick, coalesced, for the apps
// kicked, and on a timer for every app. State comes from the applier's memory, so a pass
// without changes does no I/O.
//
// A kick asks for a pass now (a deploy, a drain, an agent lost) or paced (news of tasks:
// statuses, health, readiness). A pass costs in proportion to the instances of the apps it
// reconciles, and while statuses stream in (10,000 launches) every batch would ask for one: paced
// kicks start a pass only once the loop has idled `PACE` times as long as its last pass held
// the event loop, so passes take at most about 1/(PACE + 1) of the leader's time. For one
// instance that is a wait of a few milliseconds; a kick now ends any wait. The timer's pass
// (every app, each second) is paced too: with 10,000 instances a pass lasts a tenth of a second
// or more, and one each second took a quarter to a third of the leader's busy time (profiled)
// while their statuses waited.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../lib/index.js';
import type { PassDeps } from './run-pass.js';
import { runPass } from './run-pass.js';
import type { PendingDeploy } from './snapshot.js';

export interface EvaluationLoop {
  /**
   * Asks for a pass; many kicks before it runs make one pass. With `appIds` the pass
   * reconciles those apps (and those of running deployments) only; without, every app. Paced
   * (`isPaced`): when the loop has idled long enough after its last pass (see above); else soon.
   */
  kick(appIds?: readonly string[], options?: { isPaced?: boolean }): void;
  /**
   * A pass now, in this turn, over the state as it will be once `pending` (a deploy whose intent
   * was just submitted) applies: its placements join the deploy's write instead of waiting for
   * a write of their own, and their launches go out once that one write is stored. False when
   * a pass is running or the loop is stopped: then the deploy kicks once it is stored.
   */
  passAlong(pending: PendingDeploy): boolean;
  /** One full pass now (tests, start-up). */
  runOnce(): Promise<void>;
  start(): void;
  /** Resolves when the pass in progress has ended. */
  stop(): Promise<void>;
}

/** Idle time after a pass, as a multiple of its duration, before a paced kick starts the next. */
const PACE = 9;

export interface EvaluationLoopOptions extends PassDeps {
  clock: Clock;
  intervalMs?: number;
  /** The seed of each pass; random by default (tests pass their own). */
  seed?: () => string;
  /** Milliseconds that only go forward, for the pace (default `performance.now`; tests fake it). */
  elapsedMs?: () => number;
  /** Told how long each pass took, in seconds (metrics). */
  observePass?: (seconds: number) => void;
  /** Called when a pass fails; the master treats it as fatal (restart from persisted state). */
  onFatal: (error: unknown) => void;
}

export function createEvaluationLoop(options: EvaluationLoopOptions): EvaluationLoop {
  const { clock } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const seed = options.seed ?? (() => randomUUID());
  const elapsedMs = options.elapsedMs ?? (() => performance.now());
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  /**
   * Apps the next pass reconciles. A kick names the apps it changed, so a pass after one POST
   * costs one app, not thousands; the timer's pass takes them all, which is what catches
   * changes that come with time alone (backoff elapsed, unreachable timeouts).
   */
  let dirty: Set<string> | 'all' = 'all';

  /** What was asked since the last pass started: nothing, a paced pass, or one soon. */
  let wanted: 'none' | 'paced' | 'now' = 'none';
  let pacedTimer: NodeJS.Timeout | undefined;
  let lastPassMs = 0;
  let lastEndAt = 0;

  function markDirty(appIds?: readonly string[]): void {
    if (!appIds) dirty = 'all';
    else if (dirty !== 'all') for (const id of appIds) dirty.add(id);
  }

  async function pass(pending?: PendingDeploy): Promise<void> {
    const kicked = dirty;
    dirty = new Set();
    const startedAt = performance.now();
    try {
      const outcome = await runPass(options, {
        scope: kicked === 'all' ? 'all' : [...kicked],
        now: clock.now(),
        seed: seed(),
        pending,
      });
      // Refused intents met a newer state: the next pass decides again from it.
      if (outcome.isDeploymentRefused) markDirty();
      else markDirty(outcome.retry);
      if (outcome.retry.length > 0 || outcome.isDeploymentRefused) wanted = 'now';
      options.observePass?.((performance.now() - startedAt) / 1000);
    } catch (error) {
      // The next pass (after recovery) must not skip what this one failed to do.
      markDirty();
      throw error;
    }
  }

  /** Starts a pass unless one runs; its intents are submitted before this returns. */
  function run(pending?: PendingDeploy): void {
    clearTimeout(pacedTimer);
    pacedTimer = undefined;
    if (running || stopped) return;
    wanted = 'none';
    const startedAt = elapsedMs();
    running = pass(pending)
      .catch((error: unknown) => options.onFatal(error))
      .finally(() => {
        running = undefined;
        lastEndAt = elapsedMs();
        schedule();
      });
    // The pace counts the pass's own turn (snapshot, plan, submit), not its wait for the store
    // and the bus: a pass placing 10,000 instances waits seconds for its write and launches,
    // while the leader is free to read statuses; counted, they held the deployment's end 20 s.
    lastPassMs = elapsedMs() - startedAt;
  }

  /** Starts what was asked, once no pass runs: soon, or after the pace's idle time. */
  function schedule(): void {
    if (running || stopped || wanted === 'none') return;
    if (wanted === 'now') {
      clearTimeout(pacedTimer);
      pacedTimer = undefined;
      setImmediate(run);
      return;
    }
    const waitMs = PACE * lastPassMs - (elapsedMs() - lastEndAt);
    if (waitMs <= 0) setImmediate(run);
    else pacedTimer ??= setTimeout(run, waitMs);
  }

  function want(kind: 'paced' | 'now'): void {
    if (wanted !== 'now') wanted = kind;
    schedule();
  }

  return {
    kick(appIds, kickOptions) {
      markDirty(appIds);
      if (stopped) return;
      want(kickOptions?.isPaced ? 'paced' : 'now');
    },
    passAlong(pending) {
      if (running || stopped) return false;
      markDirty([...pending.apps.map((app) => app.id), ...pending.removeApps]);
      run(pending);
      return true;
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
        want('paced');
      }, intervalMs);
      want('now');
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      clearTimeout(pacedTimer);
      pacedTimer = undefined;
      await running;
    },
  };
}
