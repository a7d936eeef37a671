// The event hub on a real store: events emitted together are stored in one write, yet keep
// their emit order in the ids, for live subscribers and for a resuming `Last-Event-ID`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createEventHub } from '../src/master/event-hub.js';
import type { MarathonEvent } from '../src/domain/index.js';
import { createPgliteStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';

let store: Store;
beforeAll(async () => {
  store = await createPgliteStore();
});
afterAll(async () => {
  await store?.close();
});

describe('event hub', () => {
  it('stores and delivers a burst of events in emit order, with increasing ids', async () => {
    const hub = createEventHub({ store, clock: systemClock, logger: silentLogger() });
    const live: [MarathonEvent, number][] = [];
    await hub.subscribe((event, id) => live.push([event, id]));
    for (let n = 0; n < 30; n++) await hub.emit({ eventType: 'burst', n });
    await new Promise((resolve) => setImmediate(resolve));
    for (let n = 30; n < 35; n++) await hub.emit({ eventType: 'burst', n });
    await hub.flush();

    const order = Array.from({ length: 35 }, (_, n) => n);
    expect(live.map(([event]) => event.n)).toEqual(order);
    const ids = live.map(([, id]) => id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const stored = await store.events.since(0, 100);
    expect(stored.map((e) => e.id)).toEqual(ids);
    expect(stored.map((e) => e.payload.n)).toEqual(order);

    const resumed: number[] = [];
    await hub.subscribe((event) => resumed.push(event.n as number), { afterId: ids[9] });
    expect(resumed).toEqual(order.slice(10));
  });
});
