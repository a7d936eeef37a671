// Leader election among masters sharing one Postgres: a lease renewed every third of its TTL.
// The leader runs the loops; the others serve the API by proxying to it, as Marathon does.
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';

export interface Leadership {
  /** True while this master holds the lease. */
  isLeader(): boolean;
  /** Base URL of the current leader (this master's own when leading), if any. */
  leaderUrl(): string | undefined;
  /** Gives the lease up; another master (or this one, later) takes it. */
  abdicate(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const LEASE = 'leader';

export function createLeadership(options: {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** This master's public URL: what followers proxy to. */
  self: string;
  ttlMs?: number;
  /** Runs when this master becomes leader; leadership counts only once it resolves. */
  onElected: () => Promise<void>;
  /** Runs when this master stops being leader. */
  onDefeated: () => Promise<void>;
}): Leadership {
  const { store, clock, logger, self } = options;
  const ttlMs = options.ttlMs ?? 10_000;
  let leader = false;
  let current: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** After abdicating, stay out of the election for one TTL so another master can win. */
  let quietUntil = 0;
  let round: Promise<void> = Promise.resolve();

  async function elect(): Promise<void> {
    const now = clock.now();
    current =
      now < quietUntil
        ? await store.leases.holder({ name: LEASE, now })
        : await store.leases.acquire({ name: LEASE, holder: self, ttlMs, now });
    if (current === self && !leader) {
      logger.info({ leader: self }, 'elected leader');
      await options.onElected();
      leader = true;
    } else if (current !== self && leader) {
      leader = false;
      logger.warn({ leader: current }, 'lost leadership');
      await options.onDefeated();
    }
  }

  function schedule(): void {
    round = round
      .then(elect)
      .catch((error: unknown) => logger.error({ err: error }, 'leader election failed'));
  }

  return {
    isLeader: () => leader,
    leaderUrl: () => current,
    async abdicate() {
      await round;
      quietUntil = clock.now() + ttlMs;
      await store.leases.release({ name: LEASE, holder: self });
      if (leader) {
        leader = false;
        current = undefined;
        logger.info('abdicated');
        await options.onDefeated();
      }
    },
    async start() {
      schedule();
      await round;
      timer = setInterval(schedule, Math.max(100, Math.floor(ttlMs / 3)));
    },
    async stop() {
      if (timer) clearInterval(timer);
      await round;
      if (leader) {
        leader = false;
        await options.onDefeated();
        await store.leases.release({ name: LEASE, holder: self });
      }
    },
  };
}
