// zod schemas of what agents send: every message from an agent is untrusted input, checked at
// the bus boundary (a consumer's `schema`) before any handler sees it. The master's only: this
// file is not in the bus's index, so an agent never loads zod (its commands are checked by
// command-schema.ts); the bounds both sides share are in message-check.ts. The status stream,
// the hottest, is checked by hand (status-check.ts), and so are an offer's lists of tasks.
import { z } from 'zod';
import {
  MAX_PORT_RANGES,
  MAX_RESERVED_ROLES,
  MesosTaskState,
  TaskKind,
  UNRESERVED_ROLE,
  firstSharedPort,
  isValidRoleName,
  normalizeAbsolutePath,
  subtractPortRanges,
} from '../domain/index.js';
import type { PortRange } from '../domain/index.js';
import { HANDLER_FUEL_BOUNDS } from './messages.js';
import { AGENT_ID_PATTERN, PORT_MAX, QUANTITY_MAX, isTaskId, isWhole } from './message-check.js';
import type { AnnounceMessage, LogMessage, OfferMessage } from './messages.js';

const agentId = z.string().regex(AGENT_ID_PATTERN);
/** Epoch ms. */
const epochMs = z.number().int().nonnegative();
const quantity = z.number().nonnegative().max(QUANTITY_MAX);
const port = z.number().int().min(0).max(PORT_MAX);

const resources = z.object({
  cpus: quantity,
  memMiB: quantity,
  diskMiB: quantity,
  ports: z.array(z.tuple([port, port])).max(MAX_PORT_RANGES),
});

/** Ranges of real ports (1 to 65535), each with begin <= end. */
const reservedPortRanges = z
  .array(z.tuple([port.min(1), port.min(1)]))
  .max(MAX_PORT_RANGES)
  .refine(
    (ranges) => ranges.every(([begin, end]) => begin <= end),
    'a port range ends before it begins',
  );

/**
 * A reservation an agent reports: the role name is the agent's text, shown in the API and used as
 * a map key by the scheduler, so it must be a valid role name (no `/`, spaces, controls; bounded).
 */
const reservation = z.object({
  role: z
    .string()
    .refine(isValidRoleName, 'invalid role name')
    // `*` names unreserved resources: nothing can be reserved to it.
    .refine((role) => role !== UNRESERVED_ROLE, 'nothing is reserved to *'),
  cpus: quantity,
  memMiB: quantity,
  diskMiB: quantity,
  ports: reservedPortRanges.optional(),
});

/**
 * Why an offer's reserved ports cannot be: a port outside the agent's total, or one reserved to
 * two roles (the scheduler would give it to an app of each). Undefined when they are sound.
 */
function reservedPortsError(offer: {
  total: { ports: PortRange[] };
  reservations?: { role: string; ports?: PortRange[] }[];
}): string | undefined {
  const withPorts = (offer.reservations ?? []).filter((r) => r.ports && r.ports.length > 0);
  if (withPorts.length === 0) return undefined;
  // Bounded as one list is: the scheduler walks these ranges on every placement there.
  if (withPorts.reduce((sum, r) => sum + (r.ports?.length ?? 0), 0) > MAX_PORT_RANGES)
    return `more than ${MAX_PORT_RANGES} reserved port ranges`;
  let seen: PortRange[] = [];
  for (const r of withPorts) {
    const ports = r.ports ?? [];
    if (subtractPortRanges(ports, offer.total.ports).length > 0)
      return `ports reserved to ${r.role} are not all in the total`;
    if (firstSharedPort(seen, ports) !== undefined)
      return `ports reserved to ${r.role} are also reserved to another role`;
    seen = [...seen, ...ports];
  }
  return undefined;
}

/**
 * An agent's metric snapshot: bounded (one row per kind and state at most) and finite, so a
 * hostile agent can neither grow the master's series nor feed it NaN or huge labels.
 */
const counter = z.number().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const AgentMetricsSnapshotSchema = z
  .object({
    tasks: z
      .array(
        z.object({
          kind: z.enum(TaskKind),
          state: z.enum(MesosTaskState),
          count: z.number().int().nonnegative().max(1_000_000),
        }),
      )
      .max(TaskKind.length * MesosTaskState.length),
    fuelUsed: counter,
    memoryBytes: counter,
    cpuSeconds: counter,
    logBytesDropped: counter,
    fetchCacheBytes: counter,
    handlerRequests: z
      .object({
        requests: counter,
        serverErrors: counter,
        fuelSum: counter,
        fuelBuckets: z.array(counter).length(HANDLER_FUEL_BOUNDS.length),
      })
      .strict()
      .optional(),
  })
  .refine(
    (s) => new Set(s.tasks.map((t) => `${t.kind} ${t.state}`)).size === s.tasks.length,
    'one row per task kind and state',
  );

/**
 * What an agent lets its tasks reach on its host (its operator's flags). Placement compares the
 * paths as prefixes, so each must be absolute and normalized; the lists are bounded.
 */
const hostAccess = z.object({
  volumes: z
    .array(
      z.object({
        path: z
          .string()
          .max(4_096)
          .refine(
            (path) => path.startsWith('/') && normalizeAbsolutePath(path) === path,
            'must be an absolute, normalized path',
          ),
        isReadOnly: z.boolean(),
      }),
    )
    .max(100),
  dockerParameters: z.array(z.string().min(1).max(255)).max(100),
});

/** The most tasks an offer lists: a running-task list beyond it is not an agent we can host. */
const MAX_OFFER_TASKS = 100_000;

/**
 * Whether `list` holds at most MAX_OFFER_TASKS task ids. By hand: offers list every task of
 * their agent each second, and zod's array of strings cost ~1 µs an id (an offer of 1,000 tasks
 * with their fuel: ~4 ms of the master's CPU).
 */
function isTaskIdList(list: unknown): list is string[] {
  if (!Array.isArray(list) || list.length > MAX_OFFER_TASKS) return false;
  return list.every(isTaskId);
}

const taskIdList = z.custom<string[]>(isTaskIdList, {
  message: `a list of at most ${MAX_OFFER_TASKS} task ids`,
});

/** Fuel per task: whole units (a safe integer) ≥ 0, one entry per task; as zod, other keys dropped. */
const taskFuelList = z
  .custom<{ taskId: string; fuelUsed: number }[]>(
    (list) => {
      if (!Array.isArray(list) || list.length > MAX_OFFER_TASKS) return false;
      const seen = new Set<string>();
      for (const entry of list as unknown[]) {
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false;
        const { taskId: id, fuelUsed } = entry as Record<string, unknown>;
        if (!isTaskId(id) || !isWhole(fuelUsed, 0) || seen.has(id)) return false;
        seen.add(id);
      }
      return true;
    },
    { message: `at most ${MAX_OFFER_TASKS} tasks' fuel, whole and ≥ 0, one entry per task` },
  )
  .transform((list) => list.map(({ taskId: id, fuelUsed }) => ({ taskId: id, fuelUsed })));

/** An offer (heartbeat). */
export const OfferMessageSchema: z.ZodType<OfferMessage> = z
  .object({
    type: z.literal('offer'),
    agentId,
    hostname: z.string().min(1).max(255),
    attributes: z.record(z.string().max(255), z.string().max(1_024)),
    capabilities: z.array(z.enum(TaskKind)).max(TaskKind.length),
    total: resources,
    free: resources,
    reservations: z
      .array(reservation)
      .max(MAX_RESERVED_ROLES)
      .refine((list) => new Set(list.map((r) => r.role)).size === list.length, 'duplicate role')
      .optional(),
    runningTaskIds: taskIdList,
    endedTaskIds: taskIdList.optional(),
    sentAt: epochMs,
    commandsReadTo: z
      .string()
      .max(41)
      .regex(/^\d+-\d+$/)
      .optional(),
    startedAt: epochMs,
    // Both were dropped by the schema before (zod strips unknown keys): placement then saw no
    // host access on any agent, and dropped log lines were never counted.
    hostAccess: hostAccess.optional(),
    logLinesDropped: counter.optional(),
    metrics: AgentMetricsSnapshotSchema.optional(),
    // Whole, finite, at most a safe integer (zod's int), one entry per task, bounded as its tasks.
    taskFuel: taskFuelList.optional(),
  })
  .refine(
    // Reservations are parts of the total: an agent claiming more reserved than it has is lying.
    (offer) =>
      (['cpus', 'memMiB', 'diskMiB'] as const).every(
        (key) =>
          (offer.reservations ?? []).reduce((sum, r) => sum + r[key], 0) <= offer.total[key] + 1e-9,
      ),
    'reservations exceed the total',
  )
  .superRefine((offer, ctx) => {
    const error = reservedPortsError(offer);
    if (error) ctx.addIssue({ code: 'custom', message: error, path: ['reservations'] });
  });

/** A batch of log lines (an agent's log pacer cuts lines to 16 KiB and batches up to 1,000). */
export const LogMessageSchema: z.ZodType<LogMessage> = z.object({
  at: epochMs,
  lines: z
    .array(z.object({ stream: z.enum(['stdout', 'stderr']), line: z.string().max(1024 * 1024) }))
    .max(10_000),
});

export const AnnounceMessageSchema: z.ZodType<AnnounceMessage> = z.object({
  type: z.literal('hello'),
  agentId,
});
