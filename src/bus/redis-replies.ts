// Shapes of the RESP2 replies of the stream commands (XRANGE, XREAD[GROUP], XAUTOCLAIM), checked
// as they are read, since ioredis's `call` returns `unknown`.

/** One stream entry as Redis returns it; `fields` is null for an entry deleted while pending. */
export interface RawEntry {
  id: string;
  fields: string[] | null;
}

function fail(what: string, reply: unknown): never {
  throw new Error(`unexpected ${what} reply from Redis: ${JSON.stringify(reply)?.slice(0, 200)}`);
}

/** `[[id, [field, value, …]], …]` (XRANGE, XREVRANGE, and the entries inside other replies). */
export function parseEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) fail('entries', reply);
  return reply.map((item: unknown) => {
    if (!Array.isArray(item) || typeof item[0] !== 'string') fail('entry', item);
    const fields: unknown = item[1];
    if (fields === null) return { id: item[0], fields: null };
    if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string'))
      fail('entry fields', item);
    return { id: item[0], fields };
  });
}

/** XREAD / XREADGROUP on one stream: null on timeout, else `[[key, entries]]`. */
export function parseReadReply(reply: unknown): RawEntry[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) fail('XREAD', reply);
  const first: unknown = reply[0];
  if (first === undefined) return [];
  if (!Array.isArray(first)) fail('XREAD', reply);
  return parseEntries(first[1]);
}

/** XREADGROUP over several streams: null on timeout, else `[[key, entries], …]`. */
export function parseMultiReadReply(reply: unknown): { key: string; entries: RawEntry[] }[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) fail('XREADGROUP', reply);
  return reply.map((item: unknown) => {
    if (!Array.isArray(item) || typeof item[0] !== 'string') fail('XREADGROUP', reply);
    return { key: item[0], entries: parseEntries(item[1]) };
  });
}

/** XAUTOCLAIM: `[nextCursor, entries, deletedIds?]`. */
export function parseAutoClaimReply(reply: unknown): { cursor: string; entries: RawEntry[] } {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') fail('XAUTOCLAIM', reply);
  return { cursor: reply[0], entries: parseEntries(reply[1]) };
}

/** The value of `name` in a flat `[field, value, …]` list. */
export function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === name) return fields[i + 1];
  }
  return undefined;
}

/** True for a Redis error reply starting with `code` (`NOGROUP`, `BUSYGROUP`). */
export function isRedisError(error: unknown, code: string): boolean {
  return error instanceof Error && error.message.startsWith(code);
}
