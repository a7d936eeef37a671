// Marathon events: stored (so `Last-Event-ID` can resume) and fanned out to live subscribers.
import type { Logger } from '../lib/index.js';
import type { Store, StoredEvent } from '../store/index.js';
import type { MarathonEvent } from '../domain/index.js';
import type { EventHub, EventInput } from './services.js';
import { toTimestamp } from '../domain/index.js';
import type { Clock } from '../lib/index.js';

type Listener = (event: MarathonEvent, id: number) => void;

/** How many events are kept for resumption; older ones are trimmed now and then. */
const KEEP_EVENTS = 10_000;
const TRIM_EVERY = 1_000;
/** Events per write: bounds what one failed write loses (the repository splits statements). */
const MAX_EVENTS_PER_WRITE = 500;

export function createEventHub(options: { store: Store; clock: Clock; logger: Logger }): EventHub {
  const { store, clock, logger } = options;
  const listeners = new Set<Listener>();
  let appended = 0;

  function deliver(event: MarathonEvent, id: number): void {
    for (const listener of listeners) {
      try {
        listener(event, id);
      } catch (error) {
        // A subscriber's failure is its own; the others still get the event.
        logger.warn({ err: error }, 'event listener failed');
      }
    }
  }

  /** Counts stored events; true when a trim is due. */
  function count(stored: number): boolean {
    const trimDue =
      Math.floor((appended + stored) / TRIM_EVERY) > Math.floor(appended / TRIM_EVERY);
    appended += stored;
    return trimDue;
  }

  const stamp = (input: EventInput): MarathonEvent =>
    ({ ...input, timestamp: input.timestamp ?? toTimestamp(clock.now()) }) as MarathonEvent;

  // Events are written in order by one background writer, so the status path never waits for
  // them; subscribers get each event once it is stored (with the id that resumes after it).
  // Whatever queued while one write ran goes out in the next, as one statement: under load
  // (a burst of deployments) that is one round trip for many events instead of one each.
  const pending: MarathonEvent[] = [];
  let writer: Promise<void> | undefined;

  async function drain(): Promise<void> {
    // One turn of the event loop first, so the events of every request handled in this turn go
    // out in one statement.
    await new Promise((resolve) => setImmediate(resolve));
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_EVENTS_PER_WRITE);
      try {
        // One statement sent with BEGIN, the fence's lease check and COMMIT (one round trip on
        // Postgres; a fenced `appendMany` alone waited for its statements, then for COMMIT).
        let stored: StoredEvent[] = [];
        await store.writeTogether([
          async (inside) => {
            stored = await inside.events.appendMany(
              batch.map((event) => ({ eventType: event.eventType, payload: event })),
            );
          },
        ]);
        batch.forEach((event, n) => deliver(event, (stored[n] as StoredEvent).id));
        if (count(batch.length)) await store.events.trim(KEEP_EVENTS);
      } catch (error) {
        const eventTypes = [...new Set(batch.map((event) => event.eventType))];
        logger.error({ err: error, eventTypes, count: batch.length }, 'could not store events');
      }
    }
    writer = undefined;
  }

  return {
    async emit(input) {
      pending.push(stamp(input));
      writer ??= drain();
    },

    stage(inputs) {
      const staged = inputs.map(stamp);
      let stored: StoredEvent[] = [];
      return {
        count: staged.length,
        async append(db) {
          stored = await db.events.appendMany(
            staged.map((event) => ({ eventType: event.eventType, payload: event })),
          );
        },
        publish() {
          staged.forEach((event, n) => deliver(event, (stored[n] as StoredEvent).id));
          // The trim is the background writer's, after what it has queued.
          if (count(staged.length))
            void Promise.resolve(writer)
              .then(() => store.events.trim(KEEP_EVENTS))
              .catch((error: unknown) => logger.warn({ err: error }, 'could not trim events'));
        },
      };
    },

    async flush() {
      while (writer) await writer;
    },

    async subscribe(listener, subscribeOptions) {
      // Register first, then replay: an event emitted meanwhile may arrive twice, never zero times.
      const seen = new Set<number>();
      let replaying = subscribeOptions?.afterId !== undefined;
      const buffered: [MarathonEvent, number][] = [];
      const wrapped: Listener = (event, id) => {
        if (replaying) buffered.push([event, id]);
        else if (!seen.has(id)) listener(event, id);
      };
      listeners.add(wrapped);
      if (subscribeOptions?.afterId !== undefined) {
        let after = subscribeOptions.afterId;
        for (;;) {
          const page = await store.events.since(after, 500);
          for (const stored of page) {
            seen.add(stored.id);
            listener(stored.payload as MarathonEvent, stored.id);
            after = stored.id;
          }
          if (page.length < 500) break;
        }
        replaying = false;
        for (const [event, id] of buffered) if (!seen.has(id)) listener(event, id);
        seen.clear();
      }
      return () => listeners.delete(wrapped);
    },
  };
}
