// Resources an agent has or an instance needs: cpus, memory and disk in MiB, port ranges.

/** Inclusive port range `[begin, end]`. */
export type PortRange = [number, number];

export interface Resources {
  cpus: number;
  memMiB: number;
  diskMiB: number;
  ports: PortRange[];
}

/** Scalar resources an instance asks for (ports are chosen at placement). */
export interface ScalarResources {
  cpus: number;
  memMiB: number;
  diskMiB: number;
}

/** Parses `cpus:2,mem:1024,disk:4096,ports:[31000-32000]` (the agent's `--resources` flag). */
export function parseResources(text: string): Partial<Resources> {
  const result: Partial<Resources> = {};
  for (const match of text.matchAll(/(\w+):(\[[^\]]*\]|[^,]+)/g)) {
    const [, key = '', value = ''] = match;
    switch (key) {
      case 'cpus':
        result.cpus = Number(value);
        break;
      case 'mem':
        result.memMiB = Number(value);
        break;
      case 'disk':
        result.diskMiB = Number(value);
        break;
      case 'ports':
        result.ports = parsePortRanges(value);
        break;
      default:
        throw new Error(`Unknown resource '${key}' (known: cpus, mem, disk, ports)`);
    }
  }
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'number' && !(value >= 0))
      throw new Error(`Resource ${key} must be a number >= 0`);
  }
  return result;
}

/**
 * Port ranges one agent may name, at most (an offer carries no more): enough for any real layout,
 * and it stops a `--resources` of a million one-port ranges before the agent starts.
 */
export const MAX_PORT_RANGES = 1_000;

/** A port number as text: 1 to 5 digits (no sign, exponent, hex, fraction or blank). */
const PORT_TEXT = /^\d{1,5}$/;

/**
 * `[31000-32000,33000-33010]` → `[[31000, 32000], [33000, 33010]]`. Each end is a whole number
 * from 1 to 65535 written in digits (`1e3`, `0x10` or ` ` would pass `Number`), begin <= end.
 */
export function parsePortRanges(text: string): PortRange[] {
  const inner = text.replace(/^\[|\]$/g, '').trim();
  if (inner === '') return [];
  // Counted before parsing: a million tiny ranges are refused without building a million tuples.
  let commas = 0;
  for (const char of inner) if (char === ',' && ++commas >= MAX_PORT_RANGES) break;
  if (commas >= MAX_PORT_RANGES)
    throw new Error(`At most ${MAX_PORT_RANGES} port ranges may be given`);
  return inner.split(',').map((part) => {
    const ends = part.split('-').map((n) => n.trim());
    const [first = '', last = first] = ends;
    const begin = Number(first);
    const end = Number(last);
    if (
      ends.length > 2 ||
      !PORT_TEXT.test(first) ||
      !PORT_TEXT.test(last) ||
      begin > end ||
      begin < 1 ||
      end > 65535
    ) {
      throw new Error(
        `Invalid port range '${part.trim().slice(0, 40)}' (expected begin-end, 1 <= begin <= end <= 65535)`,
      );
    }
    return [begin, end] as PortRange;
  });
}

/** Ranges sorted, with overlapping and adjacent ones merged (a fresh array). */
export function normalizePortRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: PortRange[] = [];
  for (const [begin, end] of sorted) {
    const last = out[out.length - 1];
    if (last && begin <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([begin, end]);
  }
  return out;
}

/** The ports of `ranges` that are not in `minus`, as sorted, merged ranges. */
export function subtractPortRanges(
  ranges: readonly PortRange[],
  minus: readonly PortRange[],
): PortRange[] {
  const cuts = normalizePortRanges(minus);
  const out: PortRange[] = [];
  for (const [begin, end] of normalizePortRanges(ranges)) {
    let start = begin;
    for (const [cutBegin, cutEnd] of cuts) {
      if (cutEnd < start) continue;
      if (cutBegin > end) break;
      if (cutBegin > start) out.push([start, cutBegin - 1]);
      start = cutEnd + 1;
      if (start > end) break;
    }
    if (start <= end) out.push([start, end]);
  }
  return out;
}

/** The lowest port two sets of ranges share, or undefined when they are disjoint. */
export function firstSharedPort(
  a: readonly PortRange[],
  b: readonly PortRange[],
): number | undefined {
  // Sorted and merged, then walked together: linear after the sort (offers check this each beat).
  const left = normalizePortRanges(a);
  const right = normalizePortRanges(b);
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const [aBegin, aEnd] = left[i] as PortRange;
    const [bBegin, bEnd] = right[j] as PortRange;
    const begin = Math.max(aBegin, bBegin);
    if (begin <= Math.min(aEnd, bEnd)) return begin;
    if (aEnd < bEnd) i++;
    else j++;
  }
  return undefined;
}

/** Whether `port` lies in one of `ranges`. */
export function isPortInRanges(port: number, ranges: readonly PortRange[]): boolean {
  return ranges.some(([begin, end]) => port >= begin && port <= end);
}

/** Number of ports in a set of ranges. */
export function portCount(ranges: PortRange[]): number {
  return ranges.reduce((sum, [begin, end]) => sum + end - begin + 1, 0);
}

/** Ranges minus the given ports. */
export function withoutPorts(ranges: PortRange[], used: Iterable<number>): PortRange[] {
  const taken = [...used].sort((a, b) => a - b);
  const out: PortRange[] = [];
  for (const [begin, end] of ranges) {
    let start = begin;
    for (const port of taken) {
      if (port < start || port > end) continue;
      if (port > start) out.push([start, port - 1]);
      start = port + 1;
    }
    if (start <= end) out.push([start, end]);
  }
  return out;
}
