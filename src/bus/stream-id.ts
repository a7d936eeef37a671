// Stream entry ids (`<ms>-<n>`) as Redis writes them: parsing, comparing and issuing new ones.

export interface StreamId {
  ms: number;
  seq: number;
}

/** Parses `<ms>-<n>` or `<ms>` (seq 0). Throws on anything else. */
export function parseStreamId(id: string): StreamId {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!match) throw new Error(`invalid stream entry id: ${id}`);
  return { ms: Number(match[1]), seq: Number(match[2] ?? '0') };
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms === b.ms ? a.seq - b.seq : a.ms - b.ms;
}

/** The id after `last` at time `nowMs`: never goes backwards, even when the clock does. */
export function nextStreamId(last: StreamId, nowMs: number): StreamId {
  return nowMs > last.ms ? { ms: nowMs, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
}

/** Whether entry id `a` comes after `b` in their stream (both as Redis writes them). */
export function isNewerStreamId(a: string, b: string): boolean {
  return compareStreamIds(parseStreamId(a), parseStreamId(b)) > 0;
}
