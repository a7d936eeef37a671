// Leader election among masters sharing one Postgres: a lease timed by the database's clock,
// renewed every `renewMs`. The leader runs the loops; the others serve the API by proxying to
// it, as Marathon does. A leader steps down by its own monotonic clock before its lease can
// expire in the database: the deadline is counted from when it *sent* the last renewal that
// succeeded, so no other master can be elected while this one still believes it leads.
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

export function createLeadership(options: {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** This master's public URL: what followers proxy to. */
  self: string;
  ttlMs?: number;
  /** How often the lease is renewed (or, by a follower, tried). */
  renewMs?: number;
  /** Runs when this master becomes leader; leadership counts only once it resolves. */
  onElected: () => Promise<void>;
  /** Runs when this master stops being leader. */
  onDefeated: () => Promise<void>;
}): Leadership {
  const { store, clock, logger, self } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewMs = options.renewMs ?? Math.min(DEFAULT_LEASE_RENEW_MS, Math.floor(ttlMs / 3));
  if (!(renewMs > 0 && renewMs < ttlMs))
    throw new Error(`The lease renew interval (${renewMs} ms) must be below its TTL (${ttlMs} ms)`);
  /** Margin for the two clocks' rates and the renewal's own time in flight. */
  const marginMs = Math.max(50, Math.floor(ttlMs / 10));
  let leader = false;
  let current: string | undefined;
  let currentTerm: number | undefined;
  /** performance.now() past which this master no longer counts as leader. */
  let deadline = 0;
  let timer: NodeJS.Timeout | undefined;
  let stepDownTimer: NodeJS.Timeout | undefined;
  /** After abdicating, stay out of the election for a moment so another master can win. */
  let quietUntil = 0;
  let round: Promise<void> = Promise.resolve();

  async function defeated(reason: string): Promise<void> {
    if (!leader) return;
    leader = false;
    clearTimeout(stepDownTimer);
    logger.warn({ leader: current, term: currentTerm, reason }, 'lost leadership');
    await options.onDefeated();
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
        defeated('the lease could not be renewed in time').catch((error: unknown) =>
          logger.error({ err: error }, 'stepping down failed'),
        );
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
      clock.now() < quietUntil
        ? store.leases.holder({ name: LEASE })
        : store.leases.acquire({ name: LEASE, holder: self, ttlMs }),
    );
    current = found?.holder;
    // Quiet after abdicating only until another master has taken over: then it is over.
    if (current !== undefined && current !== self) quietUntil = 0;
    const renewedUntil = sentAt + ttlMs - marginMs;
    // An answer that comes after the deadline it would set says nothing safe: ignore it.
    if (performance.now() >= renewedUntil) return;
    if (current === self && found) {
      const isNewTerm = currentTerm !== found.term;
      currentTerm = found.term;
      deadline = renewedUntil;
      if (!leader || isNewTerm) {
        if (leader) await defeated('a newer term of this master');
        logger.info({ leader: self, term: currentTerm }, 'elected leader');
        await options.onElected();
        // Counted only now: the API serves as leader once the loops and state are ready.
        leader = true;
      }
      armStepDown();
      // The election itself may have outlasted the deadline.
      if (performance.now() >= deadline) await defeated('elected too late to lead');
    } else {
      currentTerm = found?.term;
      await defeated(`${current ?? 'nobody'} holds the lease`);
    }
  }

  function schedule(): void {
    round = round
      .then(elect)
      .catch((error: unknown) => logger.error({ err: error }, 'leader election failed'));
  }

  return {
    isLeader: () => leader && performance.now() < deadline,
    term: () => (leader ? currentTerm : undefined),
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
      if (leader) {
        current = undefined;
        logger.info('abdicated');
        await defeated('abdicated');
      }
    },
    async start() {
      schedule();
      await round;
      timer = setInterval(schedule, renewMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await round;
      if (leader) {
        await defeated('stopping');
        await store.leases.release({ name: LEASE, holder: self });
      }
    },
  };
}
