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
 * `jsonRows` for rows that share objects: each object down to `depth` levels is serialized once
 * per call, however many rows hold it. The events of a deployment's step share its plan (both
 * root groups: a kilobyte or more), so a batch of events serialized it once per event. Only
 * within this one synchronous call: an object changed between two calls is read anew.
 */
export function jsonRowsSharing(rows: readonly object[], depth = 2): SQL {
  const seen = new Map<object, string>();
  const text = `[${rows.map((row) => stringifySharing(row, { seen, depth })).join(',')}]`;
  return sql`json_array_elements(${text}::json)`;
}

/**
 * JSON.stringify of `value`, taking plain objects down to `depth` from `seen` (and adding them).
 * Exported for its test.
 */
export function stringifySharing(
  value: unknown,
  options: { seen: Map<object, string>; depth: number },
): string {
  const { seen, depth } = options;
  const prototype: unknown =
    typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  const isPlainObject =
    (prototype === Object.prototype || prototype === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  if (depth < 0 || !isPlainObject) return JSON.stringify(value);
  const known = seen.get(value as object);
  if (known !== undefined) return known;
  const parts: string[] = [];
  for (const [key, field] of Object.entries(value as object)) {
    // Skipped as JSON.stringify skips them in an object.
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${stringifySharing(field, { seen, depth: depth - 1 })}`);
  }
  const text = `{${parts.join(',')}}`;
  seen.set(value as object, text);
  return text;
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
