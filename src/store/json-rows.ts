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
 * within this one synchronous call: an object changed between two calls is read anew. The rest
 * goes to JSON.stringify whole: walking every object down to `depth` key by key (an app's ~40
 * fields in each api_post_event) made this the master's costliest function per POST (issue #12).
 */
export function jsonRowsSharing(rows: readonly object[], depth = 2): SQL {
  return sql`json_array_elements(${jsonTextSharing(rows, depth)}::json)`;
}

/** The text of `rows` as JSON.stringify writes it, shared objects serialized once each. */
export function jsonTextSharing(rows: readonly object[], depth = 2): string {
  const paths = pathsToShared(rows, depth);
  if (paths.size === 0) return JSON.stringify(rows);
  const seen = new Map<object, string>();
  return `[${rows.map((row) => stringifySharing(row, { seen, depth, paths })).join(',')}]`;
}

/** Plain objects (not arrays, not with toJSON), whose fields JSON.stringify writes. */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return (
    (prototype === Object.prototype || prototype === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/**
 * The plain objects down to `depth` held more than once across `rows`, and every object on the
 * way to one: the only ones worth taking apart (the others go to JSON.stringify whole). Empty
 * when nothing is shared.
 */
function pathsToShared(rows: readonly object[], depth: number): Set<object> {
  const counts = new Map<object, number>();
  const count = (value: unknown, left: number): void => {
    if (left < 0 || !isPlainObject(value)) return;
    const seen = counts.get(value) ?? 0;
    counts.set(value, seen + 1);
    // Its fields were counted the first time.
    if (seen === 0) for (const field of Object.values(value)) count(field, left - 1);
  };
  for (const row of rows) count(row, depth);
  const paths = new Set<object>();
  let isShared = false;
  for (const seen of counts.values()) if (seen > 1) isShared = true;
  if (!isShared) return paths;
  /** Adds `value` when it is shared or holds a shared object; true when it did. */
  const mark = (value: unknown, left: number): boolean => {
    if (left < 0 || !isPlainObject(value)) return false;
    if (paths.has(value)) return true;
    let isOnPath = (counts.get(value) ?? 0) > 1;
    for (const field of Object.values(value)) if (mark(field, left - 1)) isOnPath = true;
    if (isOnPath) paths.add(value);
    return isOnPath;
  };
  for (const row of rows) mark(row, depth);
  return paths;
}

/**
 * JSON.stringify of `value`, taking plain objects down to `depth` from `seen` (and adding them).
 * With `paths` (pathsToShared), an object not in it is written by JSON.stringify whole.
 * Exported for its test.
 */
export function stringifySharing(
  value: unknown,
  options: { seen: Map<object, string>; depth: number; paths?: ReadonlySet<object> },
): string {
  const { seen, depth, paths } = options;
  if (depth < 0 || !isPlainObject(value) || (paths && !paths.has(value)))
    return JSON.stringify(value);
  const known = seen.get(value);
  if (known !== undefined) return known;
  const parts: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    // Skipped as JSON.stringify skips them in an object.
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
    const text = stringifySharing(field, { seen, depth: depth - 1, paths });
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  const text = `{${parts.join(',')}}`;
  seen.set(value, text);
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
