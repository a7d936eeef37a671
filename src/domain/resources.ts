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

/** `[31000-32000,33000-33010]` → `[[31000, 32000], [33000, 33010]]`. */
export function parsePortRanges(text: string): PortRange[] {
  const inner = text.replace(/^\[|\]$/g, '').trim();
  if (inner === '') return [];
  return inner.split(',').map((part) => {
    const [first, last = first] = part.split('-').map((n) => Number(n.trim()));
    const begin = first ?? NaN;
    const end = last ?? NaN;
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      begin > end ||
      begin < 1 ||
      end > 65535
    ) {
      throw new Error(`Invalid port range '${part}'`);
    }
    return [begin, end] as PortRange;
  });
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
