// Leader election among masters sharing one Postgres: a lease timed by the database's clock,
// renewed every `renewMs`. The leader runs the loops; the others serve the API by proxying to
// it, as Marathon does. A leader steps down by its own monotonic clock before its lease can
// expire in the database: the deadline is counted from when it *sent* the last renewal that
// succeeded, so no other master can be elected while this one still believes it leads.
//
// Two chains that never wait for each other:
//
//   rounds       every renewMs: take or renew the lease (or, while stepping down, only read it);
//                each bounded by the TTL, so a store that never answers cannot stop them
//   transitions  onElected / onDefeated, one at a time, never overlapping: what the rounds ask
//                for (lead in term T, or follow) is set up after what runs now has ended
//
//   following ──lease won (term T)──▶ taking over ──onElected resolved──▶ leading
//       ▲                                 │  lease lost, deadline passed,     │ lease lost,
//       │                                 │  or takeOverTimeoutMs (lease      │ deadline passed
//       │                                 ▼  given up)                        ▼
//       └────────onDefeated resolved──── stepping down (out of the election) ◀┘
//
// A master counts as leader only once onElected has resolved, in the term its lease still
// names, before its deadline. While a transition that undoes leading is pending it stays out of
// the election: it never leads again with loops of its last term still running. A take-over that
// hangs gives the lease up after takeOverTimeoutMs (renewals go on meanwhile, so a slow one is
// not cut short by the TTL); one that hangs for good keeps only this master out.
import type { Clock, Logger } from '../lib/index.js';
import type { Fence, Store } from '../store/index.js';

export interface Leadership {
  /** True while this master holds the lease (and its own deadline has not passed). */
  isLeader(): boolean;
  /** The term of the current leadership, when leading. */
  term(): number | undefined;
  /** The lease this master writes under while it holds it (also while being elected). */
  fence(): Fence | undefined;
  /** Base URL of the current leader (this master's own when leading), if any. */
  leaderUrl(): string | undefined;
  /** Gives the lease up; another master (or this one, later) takes it. */
  abdicate(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const LEASE = 'leader';

/**
 * Default lease of a master started as a library (tests, `pacer dev`): long, so a stalled event
 * loop does not cost a lone master its leadership. `pacer master` uses 1.5 s (config.ts).
 */
export const DEFAULT_LEASE_TTL_MS = 10_000;
const DEFAULT_LEASE_RENEW_MS = 300;
/** Default bound of a take-over (`onElected`): at least this, and at least 5 TTLs. */
const MIN_TAKE_OVER_TIMEOUT_MS = 10_000;

/** What the lease calls for (`term`), and what the transitions have set up (`ready` as well). */
interface Term {
  term: number;
}

export function createLeadership(options: {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** This master's public URL: what followers proxy to. */
  self: string;
  ttlMs?: number;
  /** How often the lease is renewed (or, by a follower, tried). */
  renewMs?: number;
  /**
   * How long `onElected` may run before this master gives the lease up (default the larger of
   * 10 s and 5 TTLs). It still waits for it to end, then runs `onDefeated`, before trying again.
   */
  takeOverTimeoutMs?: number;
  /**
   * Runs when this master won the lease; leadership counts only once it resolves. Never runs
   * while `onDefeated` does; a rejection is followed by `onDefeated`.
   */
  onElected: () => Promise<void>;
  /**
   * Runs when this master stops being leader, or after an `onElected` that failed or whose term
   * ended before it did: it must undo whatever `onElected` started. Never overlaps `onElected`.
   */
  onDefeated: () => Promise<void>;
}): Leadership {
  const { store, clock, logger, self } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewMs = options.renewMs ?? Math.min(DEFAULT_LEASE_RENEW_MS, Math.floor(ttlMs / 3));
  const takeOverTimeoutMs =
    options.takeOverTimeoutMs ?? Math.max(MIN_TAKE_OVER_TIMEOUT_MS, 5 * ttlMs);
  if (!(renewMs > 0 && renewMs < ttlMs))
    throw new Error(`The lease renew interval (${renewMs} ms) must be below its TTL (${ttlMs} ms)`);
  /** Margin for the two clocks' rates and the renewal's own time in flight. */
  const marginMs = Math.max(50, Math.floor(ttlMs / 10));
  let current: string | undefined;
  let currentTerm: number | undefined;
  /** performance.now() past which this master no longer counts as leader. */
  let deadline = 0;
  let timer: NodeJS.Timeout | undefined;
  let stepDownTimer: NodeJS.Timeout | undefined;
  /** After abdicating, stay out of the election for a moment so another master can win. */
  let quietUntil = 0;
  let round: Promise<void> = Promise.resolve();
  /** Rounds queued or running: at most one waits behind the one in flight. */
  let rounds = 0;
  /** The term the lease calls for this master to lead in (undefined: follow). */
  let wanted: Term | undefined;
  /** The term whose onElected ran last without an onDefeated after it; `isReady` once resolved. */
  let setUp: (Term & { isReady: boolean }) | undefined;
  /** The transitions running (undefined: none; what is set up is what is wanted). */
  let settling: Promise<void> | undefined;
  /** What the transition in flight is, and since when: for the warning about one that hangs. */
  let transition: { what: 'taking over' | 'stepping down'; since: number; warned: boolean } = {
    what: 'taking over',
    since: 0,
    warned: false,
  };

  const isLeading = (): boolean =>
    setUp?.isReady === true && wanted?.term === setUp.term && performance.now() < deadline;

  /** Stepping down (or giving up a take-over) not finished yet: out of the election till then. */
  const isStayingOut = (): boolean => settling !== undefined && wanted === undefined;

  /** The lease no longer calls for this master to lead: undo what was set up (not awaited). */
  function defeated(reason: string): void {
    clearTimeout(stepDownTimer);
    if (!wanted) return;
    const wasLeading = isLeading() || setUp?.isReady === true;
    wanted = undefined;
    logger.warn(
      { leader: current, term: currentTerm, reason },
      wasLeading ? 'lost leadership' : 'gave up taking over',
    );
    settle();
  }

  /** Whether what is set up differs from what the lease calls for. */
  const isUnsettled = (): boolean =>
    (setUp !== undefined && setUp.term !== wanted?.term) || (wanted !== undefined && !setUp);

  /** Runs the transitions until what is set up is what the lease calls for. */
  function settle(): void {
    if (settling) return;
    settling = runTransitions().finally(() => {
      settling = undefined;
      // Asked for between the last check and now (a round's answer): not to be missed.
      if (isUnsettled()) settle();
    });
  }

  async function runTransitions(): Promise<void> {
    while (isUnsettled()) {
      if (setUp && setUp.term !== wanted?.term) {
        transition = { what: 'stepping down', since: performance.now(), warned: false };
        await options
          .onDefeated()
          .catch((error: unknown) => logger.error({ err: error }, 'stepping down failed'));
        setUp = undefined;
      } else if (wanted) {
        const term = wanted.term;
        setUp = { term, isReady: false };
        transition = { what: 'taking over', since: performance.now(), warned: false };
        logger.info({ leader: self, term }, 'elected leader');
        const giveUp = setTimeout(() => {
          if (wanted?.term !== term) return;
          logger.error(
            { term, timeoutMs: takeOverTimeoutMs },
            'taking over did not finish in time: the lease is given up',
          );
          defeated('taking over did not finish in time');
          // In the rounds' order: a renewal in flight cannot take it back after this.
          round = round
            .then(() => withinTtl(store.leases.release({ name: LEASE, holder: self })))
            .catch((error: unknown) => logger.warn({ err: error }, 'giving the lease up failed'));
        }, takeOverTimeoutMs);
        try {
          await options.onElected();
          // Counted only now: the API serves as leader once the loops and state are ready.
          if (setUp.term === term) setUp.isReady = true;
        } catch (error) {
          logger.error({ err: error }, 'taking over failed');
          // Undone below; the next round takes the lease again and retries.
          if (wanted?.term === term) wanted = undefined;
        } finally {
          clearTimeout(giveUp);
        }
      }
    }
  }

  /**
   * Arms the step-down at `deadline`; a later successful renewal moves it. It does not wait for
   * the election round: that round may be the renewal that hangs.
   */
  function armStepDown(): void {
    clearTimeout(stepDownTimer);
    stepDownTimer = setTimeout(
      () => {
        if (performance.now() < deadline) return armStepDown();
        defeated('the lease could not be renewed in time');
      },
      Math.max(0, deadline - performance.now()),
    );
  }

  /** The lease's answer, or an error once it can no longer matter (a database that hangs). */
  function withinTtl<T>(answer: Promise<T>): Promise<T> {
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timeout = setTimeout(
        () => reject(new Error(`no answer from the store in ${ttlMs} ms`)),
        ttlMs,
      );
    });
    return Promise.race([answer, late]).finally(() => clearTimeout(timeout));
  }

  async function elect(): Promise<void> {
    const sentAt = performance.now();
    const found = await withinTtl(
      clock.now() < quietUntil || isStayingOut()
        ? store.leases.holder({ name: LEASE })
        : store.leases.acquire({ name: LEASE, holder: self, ttlMs }),
    );
    current = found?.holder;
    // Quiet after abdicating only until another master has taken over: then it is over.
    if (current !== undefined && current !== self) quietUntil = 0;
    const renewedUntil = sentAt + ttlMs - marginMs;
    // An answer that comes after the deadline it would set says nothing safe: ignore it.
    if (performance.now() >= renewedUntil) return;
    // Stepping down began while this round was in flight: it waits for that to end.
    if (current === self && found && !isStayingOut()) {
      if (wanted && wanted.term !== found.term) {
        defeated('a newer term of this master');
        currentTerm = found.term;
        return;
      }
      currentTerm = found.term;
      deadline = renewedUntil;
      armStepDown();
      if (!wanted) {
        wanted = { term: found.term };
        settle();
      }
    } else {
      currentTerm = found?.term;
      defeated(`${current ?? 'nobody'} holds the lease`);
    }
  }

  function schedule(): void {
    warnIfStuck();
    // A round waits for the one before; more than one waiting would only pile up behind a
    // store that answers slowly.
    if (rounds > 1) return;
    rounds++;
    round = round
      .then(elect)
      .catch((error: unknown) => logger.error({ err: error }, 'leader election failed'))
      .finally(() => rounds--);
  }

  /** Resolves when no transition runs, or after `ms`. */
  async function settledWithin(ms: number): Promise<void> {
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      settling,
      new Promise((resolve) => (bound = setTimeout(resolve, ms))),
    ]).finally(() => clearTimeout(bound));
  }

  /** Says once per transition that it hangs: what this master waits for instead of leading. */
  function warnIfStuck(): void {
    if (!settling || transition.warned) return;
    const runningMs = performance.now() - transition.since;
    if (runningMs < takeOverTimeoutMs) return;
    transition.warned = true;
    logger.error(
      { transition: transition.what, runningMs: Math.round(runningMs) },
      'a leadership transition has not ended: this master stays out of the election until it does',
    );
  }

  return {
    isLeader: isLeading,
    term: () => (isLeading() ? currentTerm : undefined),
    // The store checks the lease itself: this only names it (store/fenced-store.ts).
    fence: () =>
      current === self && currentTerm !== undefined
        ? { name: LEASE, holder: self, term: currentTerm }
        : undefined,
    leaderUrl: () => current,
    async abdicate() {
      await round;
      // Two renewal intervals: every other master tries once in that time.
      quietUntil = clock.now() + 2 * renewMs;
      await store.leases.release({ name: LEASE, holder: self });
      if (wanted) {
        current = undefined;
        logger.info('abdicated');
        defeated('abdicated');
      }
      await settledWithin(takeOverTimeoutMs);
    },
    async start() {
      schedule();
      // Renewals go on while the first take-over runs: one longer than the TTL keeps the lease.
      timer = setInterval(schedule, renewMs);
      await round;
      // Resolves once leading, or once the take-over ended or was given up.
      await settledWithin(takeOverTimeoutMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await round;
      const wasHolding = wanted !== undefined;
      defeated('stopping');
      // Bounded: a step-down that hangs must not keep the lease from the others.
      await settledWithin(takeOverTimeoutMs);
      if (wasHolding) await store.leases.release({ name: LEASE, holder: self });
    },
  };
}
