// Marathon events: stored (so `Last-Event-ID` can resume) and fanned out to live subscribers.
import type { Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';
import type { EventHub, MarathonEvent } from './services.js';
import { toTimestamp } from '../domain/index.js';
import type { Clock } from '../lib/index.js';

type Listener = (event: MarathonEvent, id: number) => void;

/** How many events are kept for resumption; older ones are trimmed now and then. */
const KEEP_EVENTS = 10_000;
const TRIM_EVERY = 1_000;

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

  // Events are written in order by one background writer, so the status path never waits for
  // them; subscribers get each event once it is stored (with the id that resumes after it).
  const pending: MarathonEvent[] = [];
  let writer: Promise<void> | undefined;

  async function drain(): Promise<void> {
    for (let event = pending.shift(); event; event = pending.shift()) {
      try {
        const stored = await store.events.append({ eventType: event.eventType, payload: event });
        deliver(event, stored.id);
        if (++appended % TRIM_EVERY === 0) await store.events.trim(KEEP_EVENTS);
      } catch (error) {
        logger.error({ err: error, eventType: event.eventType }, 'could not store event');
      }
    }
    writer = undefined;
  }

  return {
    async emit(input) {
      pending.push({
        ...input,
        timestamp: input.timestamp ?? toTimestamp(clock.now()),
      } as MarathonEvent);
      writer ??= drain();
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
