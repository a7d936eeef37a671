// The event log behind `/v2/events`: appended with increasing ids, read after an id, trimmed.
// A deployment's events each carry its plan (both root groups: most of their bytes; a POST of an
// app stores four such events), so a plan is stored once in `event_plans`, keyed by the SHA-256 of
// its text (not md5: app definitions are in the text, and two texts that collide would show one
// event another's plan), and an event holds its key: Postgres wrote each plan four times, and its
// CPU per POST (issue #12) went mostly to the bytes of events.
import { asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { decodeObject } from './decode.js';
import { rowsOf } from './json-rows.js';
import { eventPlans, events } from './schema.js';
import type { EventRepository, StoredEvent } from './store.js';
import { EVENTS_PER_STATEMENT } from './store.js';

/** The event repository on `db` (a database or a transaction). */
export function createEventRepository(options: { db: Database }): EventRepository {
  const { db } = options;
  const toEvent = (row: {
    id: number;
    eventType: string;
    payload: unknown;
    planKey?: string | null;
    plan?: unknown;
  }): StoredEvent => {
    const key = String(row.id);
    const payload = decodeObject({ table: 'events', value: row.payload, key });
    if (row.planKey) payload.plan = decodeObject({ table: 'event_plans', value: row.plan, key });
    return { id: row.id, eventType: row.eventType, payload };
  };
  const columns = {
    id: events.id,
    eventType: events.eventType,
    payload: events.payload,
    planKey: events.planKey,
    plan: eventPlans.plan,
  };

  async function appendMany(
    list: Parameters<EventRepository['appendMany']>[0],
  ): Promise<StoredEvent[]> {
    const stored: StoredEvent[] = [];
    for (let i = 0; i < list.length; i += EVENTS_PER_STATEMENT) {
      const chunk = list.slice(i, i + EVENTS_PER_STATEMENT);
      const { plans, rows: input } = separatePlans(chunk);
      // One statement: the plans (one of them already stored is kept), then the events. Two
      // parameters and a join: one document holding both was parsed again for each (a `json`
      // value is text), and a subquery per event looked its plan up; this way the statement
      // took 1.1–1.2 ms for a write of 8 POSTs' 42 events, against 1.6–1.8 ms (psql, warm).
      const result: unknown = await db.execute(sql`
        with plans as (
            select encode(sha256(convert_to(p::text, 'UTF8')), 'hex') as key, p as plan, pn
            from json_array_elements(${JSON.stringify(plans)}::json) with ordinality as t(p, pn)),
          saved as (
            insert into ${eventPlans} (key, plan) select key, plan from plans
            on conflict (key) do nothing)
        insert into ${events} (event_type, payload, plan_key)
        select e->>'eventType', e->'payload', plans.key
        from json_array_elements(${JSON.stringify(input)}::json) with ordinality as t(e, n)
          left join plans on plans.pn = (e->>'plan')::bigint
        order by n
        returning id`);
      // int8 comes as text from postgres-js.
      const rows = rowsOf(result);
      if (rows.length !== chunk.length) throw new Error('Appending events returned too few rows');
      // The identity ids are drawn in the order the select yields rows (by `n`, as given);
      // RETURNING's order is not promised, so the ids are sorted and paired with the rows.
      const ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
      chunk.forEach((e, n) =>
        stored.push({ id: ids[n] as number, eventType: e.eventType, payload: e.payload }),
      );
    }
    return stored;
  }

  return {
    async append(event) {
      const [stored] = await appendMany([event]);
      if (!stored) throw new Error('Appending an event returned no row');
      return stored;
    },

    appendMany,

    async since(afterId, limit) {
      const rows = await db
        .select(columns)
        .from(events)
        .leftJoin(eventPlans, eq(eventPlans.key, events.planKey))
        .where(gt(events.id, afterId))
        .orderBy(asc(events.id))
        .limit(limit);
      return rows.map(toEvent);
    },

    async trim(keep) {
      // The id of the newest event to drop; everything at or below it goes.
      const [cut] = await db
        .select({ id: events.id })
        .from(events)
        .orderBy(desc(events.id))
        .offset(Math.max(0, keep))
        .limit(1);
      if (!cut) return;
      await db.delete(events).where(lte(events.id, cut.id));
      // Plans no event holds any more. One an append takes meanwhile stays (its reference
      // fails this delete, which the next trim makes again); one deleted first is stored again.
      await db.execute(sql`
        delete from ${eventPlans} p
        where not exists (select 1 from ${events} e where e.plan_key = p.key)`);
    },
  };
}

/**
 * The events with each `plan` object in a list of its own (1-based `plan` index instead, its
 * field kept in place as null), every plan once however many events of the batch hold it.
 */
function separatePlans(list: { eventType: string; payload: Record<string, unknown> }[]): {
  plans: object[];
  rows: { eventType: string; payload: Record<string, unknown>; plan?: number }[];
} {
  const plans: object[] = [];
  const indexOf = new Map<object, number>();
  const rows = list.map(({ eventType, payload }) => {
    const { plan } = payload;
    if (typeof plan !== 'object' || plan === null) return { eventType, payload };
    let index = indexOf.get(plan);
    if (index === undefined) {
      index = plans.push(plan);
      indexOf.set(plan, index);
    }
    return { eventType, payload: { ...payload, plan: null }, plan: index };
  });
  return { plans, rows };
}
