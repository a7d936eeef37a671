// The agent's `--resources` in Mesos's syntax with roles: `cpus(web):2;cpus:2;mem(web):1024;
// mem:3072;ports(web):[40000-40010];ports:[31000-32000]`. Resources named with a role are
// reserved to it; `name(*)` and a bare name are unreserved. Pacer's own comma form
// (`cpus:2,mem:1024`) still parses.
import type { PortRange, Resources } from './resources.js';
import {
  MAX_PORT_RANGES,
  normalizePortRanges,
  parsePortRanges,
  parseResources,
  subtractPortRanges,
  withoutPorts,
} from './resources.js';
import type { RoleResources } from './roles.js';
import { UNRESERVED_ROLE, roleNameErrors } from './roles.js';

/** Roles an agent may reserve to, at most: each is carried in every offer. */
export const MAX_RESERVED_ROLES = 32;

export interface ResourceSpec {
  /** Unreserved resources given (absent ones take the machine's defaults). */
  unreserved: Partial<Resources>;
  /** Resources reserved to roles, one entry per role, in the order first named. */
  reservations: RoleResources[];
}

const SCALAR_KEYS = { cpus: 'cpus', mem: 'memMiB', disk: 'diskMiB' } as const;

/** Parses either syntax; throws with the offending part on anything else. */
export function parseResourceSpec(text: string): ResourceSpec {
  if (!text.includes(';') && !text.includes('(')) {
    return { unreserved: parseResources(text), reservations: [] };
  }
  const unreserved: Partial<Resources> = {};
  // A Map, not an object: a role is operator text and may be `__proto__` or `toString`.
  const reserved = new Map<string, RoleResources>();
  const reservationOf = (role: string): RoleResources => {
    let entry = reserved.get(role);
    if (!entry) {
      if (reserved.size >= MAX_RESERVED_ROLES)
        throw new Error(`At most ${MAX_RESERVED_ROLES} roles may hold reservations`);
      entry = { role, cpus: 0, memMiB: 0, diskMiB: 0 };
      reserved.set(role, entry);
    }
    return entry;
  };
  // Counted across every `ports` part: `ports:[1-1];ports:[3-3];…` is bounded as one list is.
  let rangeCount = 0;
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const match = /^(\w+)(?:\(([^)]*)\))?:(.+)$/.exec(part);
    if (!match)
      throw new Error(`Invalid resource '${part.slice(0, 80)}' (expected name(role):value)`);
    const [, name = '', roleText, value = ''] = match;
    const role = roleText ?? UNRESERVED_ROLE;
    const errors = roleNameErrors(role);
    if (errors.length > 0)
      throw new Error(`Invalid role in '${part.slice(0, 80)}': ${errors.join(' ')}`);
    if (name === 'ports') {
      const ranges = parsePortRanges(value.trim());
      rangeCount += ranges.length;
      if (rangeCount > MAX_PORT_RANGES)
        throw new Error(`At most ${MAX_PORT_RANGES} port ranges may be given`);
      if (role === UNRESERVED_ROLE) {
        unreserved.ports = [...(unreserved.ports ?? []), ...ranges];
      } else {
        const entry = reservationOf(role);
        entry.ports = [...(entry.ports ?? []), ...ranges];
      }
      continue;
    }
    const key = Object.hasOwn(SCALAR_KEYS, name)
      ? SCALAR_KEYS[name as keyof typeof SCALAR_KEYS]
      : undefined;
    if (!key) throw new Error(`Unknown resource '${name}' (known: cpus, mem, disk, ports)`);
    const amount = Number(value.trim());
    if (!Number.isFinite(amount) || amount < 0)
      throw new Error(`Resource ${name} must be a number >= 0 in '${part.slice(0, 80)}'`);
    if (role === UNRESERVED_ROLE) {
      unreserved[key] = (unreserved[key] ?? 0) + amount;
      continue;
    }
    reservationOf(role)[key] += amount;
  }
  const reservations = [...reserved.values()];
  refuseSharedPorts(unreserved.ports ?? [], reservations);
  for (const entry of reservations) if (entry.ports) entry.ports = normalizePortRanges(entry.ports);
  return { unreserved, reservations };
}

/**
 * Throws when a port is named twice: by two roles, by a role and unreserved, or twice in one
 * list. A port belongs to one pool, or two apps of different roles could be given it.
 */
function refuseSharedPorts(unreserved: readonly PortRange[], reservations: RoleResources[]): void {
  const owned: { begin: number; end: number; role: string }[] = [];
  for (const [begin, end] of unreserved) owned.push({ begin, end, role: UNRESERVED_ROLE });
  for (const r of reservations)
    for (const [begin, end] of r.ports ?? []) owned.push({ begin, end, role: r.role });
  owned.sort((a, b) => a.begin - b.begin);
  let widest: (typeof owned)[number] | undefined;
  for (const range of owned) {
    if (widest && range.begin <= widest.end) {
      const show = (r: typeof range) => `ports(${r.role}):[${r.begin}-${r.end}]`;
      throw new Error(
        `Port ranges overlap: ${show(widest)} and ${show(range)} share port ${range.begin}` +
          ' (a port may be reserved to one role, or be unreserved)',
      );
    }
    if (!widest || range.end > widest.end) widest = range;
  }
}

/** Every port reserved to some role, sorted and merged. */
export function reservedPortsOf(reservations: readonly RoleResources[]): PortRange[] {
  return normalizePortRanges(reservations.flatMap((r) => r.ports ?? []));
}

/**
 * An agent's resources from a spec and the machine's defaults: `total` counts reserved and
 * unreserved together (what the machine gives tasks, reserved ports included); an unreserved
 * amount the spec leaves out is the default less what is reserved (unreserved ports: the
 * default ranges less the reserved ones), so the agent never offers more than it has.
 */
export function agentResources(
  spec: ResourceSpec,
  defaults: Resources,
): { total: Resources; reservations: RoleResources[] } {
  const reservedSum = (key: 'cpus' | 'memMiB' | 'diskMiB') =>
    spec.reservations.reduce((sum, r) => sum + r[key], 0);
  const scalar = (key: 'cpus' | 'memMiB' | 'diskMiB') => {
    const given = spec.unreserved[key];
    const reserved = reservedSum(key);
    return given !== undefined ? given + reserved : Math.max(defaults[key], reserved);
  };
  const reservedPorts = reservedPortsOf(spec.reservations);
  let ports = spec.unreserved.ports ?? defaults.ports;
  if (reservedPorts.length > 0) {
    const unreservedPorts =
      spec.unreserved.ports ?? subtractPortRanges(defaults.ports, reservedPorts);
    ports = normalizePortRanges([...unreservedPorts, ...reservedPorts]);
    if (ports.length > MAX_PORT_RANGES)
      throw new Error(`At most ${MAX_PORT_RANGES} port ranges may be given`);
  }
  return {
    total: {
      cpus: scalar('cpus'),
      memMiB: scalar('memMiB'),
      diskMiB: scalar('diskMiB'),
      ports,
    },
    reservations: spec.reservations,
  };
}

type ScalarKey = 'cpus' | 'memMiB' | 'diskMiB';
const SCALARS: readonly ScalarKey[] = ['cpus', 'memMiB', 'diskMiB'];

/**
 * Splits what is free on an agent into unreserved and per-role reserved parts, from what its
 * instances hold. An instance placed with a `reservationRole` takes from that role's reservation
 * first, the rest from unreserved (as the scheduler places it). `reported` is the agent's own
 * free figure (everything): it can only lower the unreserved part (it may still run tasks the
 * master asked it to kill). Ports are counted by number: a held port leaves whichever pool
 * (unreserved or a role's reservation) holds it.
 */
export function splitFree(options: {
  total: Resources;
  reported: Resources;
  reservations: readonly RoleResources[];
  held: readonly {
    resources: Record<ScalarKey, number>;
    reservationRole?: string;
    ports?: readonly number[];
  }[];
}): { free: Record<ScalarKey, number>; freePorts: PortRange[]; freeReserved: RoleResources[] } {
  const { total, reported, reservations, held } = options;
  const byRole = new Map<string, Record<ScalarKey, number>>();
  for (const r of reservations) byRole.set(r.role, { cpus: 0, memMiB: 0, diskMiB: 0 });
  const used = { cpus: 0, memMiB: 0, diskMiB: 0 };
  const heldPorts: number[] = [];
  for (const instance of held) {
    const pool = instance.reservationRole ? byRole.get(instance.reservationRole) : undefined;
    for (const key of SCALARS) {
      used[key] += instance.resources[key];
      if (pool) pool[key] += instance.resources[key];
    }
    if (instance.ports) heldPorts.push(...instance.ports);
  }
  const freeReserved: RoleResources[] = [];
  const unusedReserved = { cpus: 0, memMiB: 0, diskMiB: 0 };
  const reservedUsed = { cpus: 0, memMiB: 0, diskMiB: 0 };
  const reservedTotal = { cpus: 0, memMiB: 0, diskMiB: 0 };
  for (const r of reservations) {
    const wanted = byRole.get(r.role) ?? { cpus: 0, memMiB: 0, diskMiB: 0 };
    const entry: RoleResources = { role: r.role, cpus: 0, memMiB: 0, diskMiB: 0 };
    for (const key of SCALARS) {
      const fromReservation = Math.min(r[key], wanted[key]);
      entry[key] = r[key] - fromReservation;
      unusedReserved[key] += entry[key];
      reservedUsed[key] += fromReservation;
      reservedTotal[key] += r[key];
    }
    if (r.ports) entry.ports = withoutPorts(r.ports, heldPorts);
    freeReserved.push(entry);
  }
  const free = { cpus: 0, memMiB: 0, diskMiB: 0 };
  for (const key of SCALARS) {
    const byBook = total[key] - reservedTotal[key] - (used[key] - reservedUsed[key]);
    free[key] = Math.min(reported[key] - unusedReserved[key], byBook);
  }
  const freePorts = withoutPorts(unreservedPortsOf(total, reservations), heldPorts);
  return { free, freePorts, freeReserved };
}

/** The agent's unreserved port ranges: its total less every reserved range. */
export function unreservedPortsOf(
  total: Resources,
  reservations: readonly RoleResources[],
): PortRange[] {
  const reserved = reservedPortsOf(reservations);
  return reserved.length > 0 ? subtractPortRanges(total.ports, reserved) : total.ports;
}

/** One role's share of an agent: what it holds in total, what its tasks use, what is free. */
export interface RoleUsage {
  /** `*` for the unreserved part, else the role the resources are reserved to. */
  role: string;
  total: Resources;
  used: Resources;
  free: Resources;
}

/** Ranges of a sorted, duplicate-free list of ports. */
function rangesOf(ports: number[]): PortRange[] {
  const ranges: PortRange[] = [];
  for (const port of ports) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === port - 1) last[1] = port;
    else ranges.push([port, port]);
  }
  return ranges;
}

/** What of `ranges` the held ports use and leave free. */
function portUsage(
  ranges: PortRange[],
  heldPorts: readonly number[],
): { used: PortRange[]; free: PortRange[] } {
  const inside = heldPorts.filter((port) => ranges.some(([b, e]) => port >= b && port <= e));
  return { used: rangesOf(inside), free: withoutPorts(ranges, inside) };
}

/**
 * An agent's resources per role, `*` first, then each reservation in the agent's order: used and
 * free as `splitFree` counts them (what the master placed there, lowered by the agent's own free
 * figure). Ports show in the pool that holds them: unreserved under `*`, reserved under the role.
 */
export function usageByRole(options: {
  total: Resources;
  reported: Resources;
  reservations: readonly RoleResources[];
  held: readonly {
    resources: Record<ScalarKey, number>;
    reservationRole?: string;
    ports: readonly number[];
  }[];
}): RoleUsage[] {
  const { total, reservations, held } = options;
  const { free, freeReserved } = splitFree(options);
  // Rounded: differences of fractional cpus would show as 0.30000000000000004.
  const round = (value: number) => Math.round(value * 1e6) / 1e6;
  const scalars = (pick: (key: ScalarKey) => number) => ({
    cpus: round(pick('cpus')),
    memMiB: round(pick('memMiB')),
    diskMiB: round(pick('diskMiB')),
  });
  const heldPorts = [...new Set(held.flatMap((i) => i.ports))].sort((a, b) => a - b);
  const unreservedTotal = scalars(
    (key) => total[key] - reservations.reduce((sum, r) => sum + r[key], 0),
  );
  const unreservedPorts = unreservedPortsOf(total, reservations);
  const unreservedPortUsage = portUsage(unreservedPorts, heldPorts);
  const rows: RoleUsage[] = [
    {
      role: UNRESERVED_ROLE,
      total: { ...unreservedTotal, ports: unreservedPorts },
      used: {
        ...scalars((key) => Math.max(0, unreservedTotal[key] - free[key])),
        ports: unreservedPortUsage.used,
      },
      free: {
        ...scalars((key) => Math.max(0, free[key])),
        ports: unreservedPortUsage.free,
      },
    },
  ];
  reservations.forEach((r, n) => {
    const left = freeReserved[n] ?? { role: r.role, cpus: 0, memMiB: 0, diskMiB: 0 };
    const ports = portUsage(r.ports ?? [], heldPorts);
    rows.push({
      role: r.role,
      total: { ...scalars((key) => r[key]), ports: r.ports ?? [] },
      used: { ...scalars((key) => r[key] - left[key]), ports: ports.used },
      free: { ...scalars((key) => left[key]), ports: ports.free },
    });
  });
  return rows;
}
