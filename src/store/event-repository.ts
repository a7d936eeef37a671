// The event log behind `/v2/events`: appended with increasing ids, read after an id, trimmed.
import { asc, desc, gt, lte, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { decodeObject } from './decode.js';
import { jsonRowsSharing } from './json-rows.js';
import { events } from './schema.js';
import type { EventRepository, StoredEvent } from './store.js';
import { EVENTS_PER_STATEMENT } from './store.js';

/** A row of `returning id`, as either driver hands it over. */
type IdRow = { id: number | string };

/** The event repository on `db` (a database or a transaction). */
export function createEventRepository(options: { db: Database }): EventRepository {
  const { db } = options;
  const toEvent = (row: { id: number; eventType: string; payload: unknown }): StoredEvent => ({
    id: row.id,
    eventType: row.eventType,
    payload: decodeObject({ table: 'events', value: row.payload, key: String(row.id) }),
  });
  const columns = { id: events.id, eventType: events.eventType, payload: events.payload };

  return {
    async append(event) {
      const [row] = await db
        .insert(events)
        .values({ eventType: event.eventType, payload: event.payload })
        .returning(columns);
      if (!row) throw new Error('Appending an event returned no row');
      return toEvent(row);
    },

    async appendMany(list) {
      const stored: StoredEvent[] = [];
      for (let i = 0; i < list.length; i += EVENTS_PER_STATEMENT) {
        const chunk = list.slice(i, i + EVENTS_PER_STATEMENT);
        const result: unknown = await db.execute(sql`
          insert into ${events} (event_type, payload)
          select e->>'eventType', e->'payload'
          from ${jsonRowsSharing(chunk)} with ordinality as t(e, n)
          order by n
          returning id`);
        // postgres-js answers the rows themselves (int8 as text), PGlite an object holding them.
        const rows = Array.isArray(result)
          ? (result as IdRow[])
          : (result as { rows: IdRow[] }).rows;
        if (rows.length !== chunk.length) throw new Error('Appending events returned too few rows');
        // The identity ids are drawn in the order the select yields rows (by `n`, as given);
        // RETURNING's order is not promised, so the ids are sorted and paired with the rows.
        const ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
        chunk.forEach((e, n) =>
          stored.push({ id: ids[n] as number, eventType: e.eventType, payload: e.payload }),
        );
      }
      return stored;
    },

    async since(afterId, limit) {
      const rows = await db
        .select(columns)
        .from(events)
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
      if (cut) await db.delete(events).where(lte(events.id, cut.id));
    },
  };
}
