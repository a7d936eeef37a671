// A deployment's plan is stored once however many events carry it (its bytes were most of a
// POST's), and goes with the last event that holds it (real Postgres, counted in its tables).
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTestDatabase, hasService } from './support/services.js';

describe.skipIf(!(await hasService('postgres')))('event plans on Postgres', () => {
  let store: Store;
  let sql: postgres.Sql;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    store = await createPostgresStore({ url: database.url });
    sql = postgres(database.url, { max: 1 });
  });
  afterAll(async () => {
    await sql.end();
    await store.close();
    await drop();
  });

  const stored = async () =>
    Number((await sql`select count(*) as n from event_plans`)[0]?.n ?? Number.NaN);

  it('stores a plan once for all the events that carry it, and drops it with the last', async () => {
    const plan = { id: 'd-1', steps: [{ actions: [{ action: 'StartApplication', app: '/a' }] }] };
    await store.events.appendMany(
      ['deployment_info', 'deployment_step_success', 'deployment_success'].map((eventType) => ({
        eventType,
        payload: { eventType, plan },
      })),
    );
    await store.events.append({ eventType: 'deployment_success', payload: { plan: { ...plan } } });
    expect(await stored()).toBe(1);
    // Keyed by the SHA-256 of its text, as sent: two plans are one only when their text is.
    const [row] = await sql`select key from event_plans`;
    expect(row?.key).toBe(createHash('sha256').update(JSON.stringify(plan)).digest('hex'));
    const bytes = await sql`select sum(length(payload::text)) as n from events`;
    expect(Number(bytes[0]?.n)).toBeLessThan(4 * JSON.stringify(plan).length);

    await store.events.append({ eventType: 'other', payload: { plan: { id: 'd-2' } } });
    expect(await stored()).toBe(2);
    await store.events.trim(1);
    expect(await stored()).toBe(1);
    await store.events.trim(0);
    expect(await stored()).toBe(0);
  });
});
