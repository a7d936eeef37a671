// The Postgres store after an outage: every connection of its pool reset, new ones refused for
// seconds while statements and transactions keep failing, then the server back. It must answer
// again well inside a leader's lease (1.5 s for `pacer master`), and nothing may wait forever:
// postgres.js's own backoff grew to 10-20 s over such an outage, and its reserve()/release()
// left transactions waiting for good (reserved-connections.ts), so no chaos-suite master led.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTcpProxy, type TcpProxy } from './chaos/support/tcp-proxy.js';
import { createTestDatabase, hasService } from './support/services.js';

const hasPostgres = await hasService('postgres');

/** What a master does all the time: plain reads, read transactions, group-committed writes. */
function work(store: Store, i: number): Promise<unknown> {
  switch (i % 3) {
    case 0:
      return store.leases.holder({ name: 'leader' });
    case 1:
      return store.stateChanges.since(undefined);
    default:
      return store.writeTogether([
        (inside) => inside.events.append({ eventType: 'x', payload: {} }),
      ]);
  }
}

/** `answer`'s outcome, or 'hung' when it has none in `ms`. */
function outcome(answer: Promise<unknown>, ms: number): Promise<'ok' | 'failed' | 'hung'> {
  return Promise.race([
    answer.then(
      () => 'ok' as const,
      () => 'failed' as const,
    ),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms)),
  ]);
}

describe.skipIf(!hasPostgres)('the Postgres store after an outage', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: TcpProxy;
  let store: Store;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await createTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.host = proxy.address;
    store = await createPostgresStore({ url: url.toString(), logger: silentLogger() });
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });

  it('answers within a second of the server coming back, and nothing waits forever', async () => {
    // More work than connections (10), so transactions also wait for one when the links drop.
    await Promise.all(Array.from({ length: 30 }, (_, i) => work(store, i)));
    proxy.cut();
    const outageEnds = performance.now() + 3_000;
    const during: Promise<'ok' | 'failed' | 'hung'>[] = [];
    while (performance.now() < outageEnds) {
      during.push(...Array.from({ length: 15 }, (_, i) => outcome(work(store, i), 15_000)));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    proxy.restore();

    const since = performance.now();
    let answeredMs: number | undefined;
    while (answeredMs === undefined && performance.now() - since < 30_000)
      if ((await outcome(store.leases.holder({ name: 'leader' }), 5_000)) === 'ok')
        answeredMs = performance.now() - since;
    expect(answeredMs).toBeLessThan(1_000);

    // What was asked during the outage has an answer (an error, mostly), and the pool serves.
    const outcomes = await Promise.all(during);
    expect(outcomes).not.toContain('hung');
    expect(outcomes).toContain('failed');
    const after = await Promise.all(
      Array.from({ length: 45 }, (_, i) => outcome(work(store, i), 5_000)),
    );
    expect(after.filter((answer) => answer !== 'ok')).toEqual([]);

    // No connection is left half-open: the pool closes at once.
    const closing = performance.now();
    await store.close();
    expect(performance.now() - closing).toBeLessThan(1_000);
  });
});
