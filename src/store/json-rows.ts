// Many rows in one statement: they travel as one JSON parameter that Postgres unpacks with
// `json_array_elements`. Building a statement of several parameters a row through the query
// builder cost the master 20–100 ms of CPU per 1,000 instance rows (measured; 4–8 ms this way),
// and group commits, status batches and placements write hundreds of rows at once.
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';

/** `rows` as a set of json values, for `select … from ${jsonRows(rows)} as alias`. */
export function jsonRows(rows: readonly unknown[]): SQL {
  return sql`json_array_elements(${JSON.stringify(rows)}::json)`;
}

/**
 * The last of `rows` for each key, in first-seen order: one statement may not touch a row
 * twice, and the last write of a key wins, as with a put of each in turn.
 */
export function lastOfEach<T>(rows: readonly T[], key: (row: T) => string): T[] {
  return [...new Map(rows.map((row) => [key(row), row])).values()];
}

/** The rows of `execute`: an array from postgres.js, `{ rows }` from PGlite. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  return (result as { rows?: Record<string, unknown>[] }).rows ?? [];
}
