// The agent's check of its commands, written out by hand: zod and its schemas added 4–7 MiB to an
// idle agent's RSS (issue 14), and the agent checks only these five messages. Every command is
// untrusted input (issue 12): a malformed one is dropped and acknowledged, never half-handled —
// a reconcile without its list would read as "keep nothing" and kill every task, a launch
// without its spec would throw in its handler and come back forever. The launch spec is checked
// only in the fields the agent reads before the driver does; the rest passes through unchanged.
// The verdicts and the output are those of the zod schema this replaces (command-schema.test.ts
// holds that schema and compares the two on a corpus and on generated messages).
import { TaskKind } from '../domain/index.js';
import type { CommandMessage, TaskLaunchSpec } from './messages.js';
import {
  PORT_MAX,
  QUANTITY_MAX,
  fail,
  handWritten,
  objectAt,
  oneOfAt,
  taskIdAt,
  wholeAt,
  type MessageSchema,
  type Path,
} from './message-check.js';

/** A finite number in `[0, QUANTITY_MAX]`. */
function quantityAt(value: unknown, path: Path): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= QUANTITY_MAX))
    fail(path, `a quantity (0 to ${QUANTITY_MAX})`);
  return value;
}

function arrayAt(value: unknown, path: Path): unknown[] {
  if (!Array.isArray(value)) fail(path, 'an array');
  return value;
}

/** An object whose every own value is a string. */
function stringRecordAt(value: unknown, path: Path): Record<string, string> {
  const record = objectAt(value, path);
  for (const key of Object.keys(record))
    if (typeof record[key] !== 'string') fail([...path, key], 'a string');
  return record as Record<string, string>;
}

function launchOf(message: Record<string, unknown>): CommandMessage {
  const taskId = taskIdAt(message.taskId, ['taskId']);
  const spec = objectAt(message.spec, ['spec']);
  const kind = oneOfAt(spec.kind, TaskKind, ['spec', 'kind']);
  if (typeof spec.appId !== 'string') fail(['spec', 'appId'], 'a string');
  const env = stringRecordAt(spec.env, ['spec', 'env']);
  const labels = stringRecordAt(spec.labels, ['spec', 'labels']);
  const fetch = arrayAt(spec.fetch, ['spec', 'fetch']);
  const given = objectAt(spec.resources, ['spec', 'resources']);
  const resources = {
    cpus: quantityAt(given.cpus, ['spec', 'resources', 'cpus']),
    memMiB: quantityAt(given.memMiB, ['spec', 'resources', 'memMiB']),
    diskMiB: quantityAt(given.diskMiB, ['spec', 'resources', 'diskMiB']),
  };
  const ports = arrayAt(spec.ports, ['spec', 'ports']);
  ports.forEach((port, i) => {
    if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > PORT_MAX)
      fail(['spec', 'ports', i], `a port (0 to ${PORT_MAX})`);
  });
  // The spec's other fields pass through; its resources keep only what is checked (as zod did).
  const checked = { ...spec, kind, env, labels, fetch, resources, ports };
  return { type: 'launch', taskId, spec: checked as unknown as TaskLaunchSpec };
}

/** The command `value` is, with unknown fields dropped; throws a CommandCheckError if none. */
function commandOf(value: unknown): CommandMessage {
  const message = objectAt(value, []);
  switch (message.type) {
    case 'launch':
      return launchOf(message);
    case 'kill':
      return { type: 'kill', taskId: taskIdAt(message.taskId, ['taskId']) };
    case 'reconcile':
      return {
        type: 'reconcile',
        taskIds: arrayAt(message.taskIds, ['taskIds']).map((id, i) => taskIdAt(id, ['taskIds', i])),
      };
    case 'ack':
      return { type: 'ack', seq: wholeAt(message.seq, ['seq'], 0) };
    case 'resend':
      return { type: 'resend' };
    default:
      return fail(['type'], 'launch, kill, reconcile, ack or resend');
  }
}

/** The agent's command stream's `schema` (bus.consume). */
export const CommandMessageSchema: MessageSchema<CommandMessage> = handWritten(commandOf);
