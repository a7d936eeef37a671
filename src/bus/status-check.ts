// The master's check of an agent's status stream (task statuses and health results), written out
// by hand. It is the hottest message the master reads: every launch sends two or three, and the
// zod union it replaces cost 17–26 µs a message in the master (measured in bench/scheduler-e2e's
// 1,000 launches: 3,700 messages, ~60 ms of the master's CPU while it was the bottleneck); this
// costs well under 1 µs. The verdicts and the output are those of that zod schema
// (status-check.test.ts holds it and compares the two on a corpus and on generated messages):
// unknown fields are dropped, an optional field is kept only when given.
import { FailureReason, MesosTaskState } from '../domain/index.js';
import { hasCodePointsBetween } from '../lib/index.js';
import type { HealthMessage, StatusMessage } from './messages.js';
import {
  AGENT_ID_PATTERN,
  fail,
  handWritten,
  objectAt,
  oneOfAt,
  taskIdAt,
  wholeAt,
  type MessageSchema,
  type Path,
} from './message-check.js';

/** The longest status message or health cause, in characters. */
export const STATUS_TEXT_MAX = 64 * 1024;

const FAILURE_REASONS = Object.values(FailureReason);

function agentIdAt(value: unknown, path: Path): string {
  if (typeof value !== 'string' || !AGENT_ID_PATTERN.test(value)) fail(path, 'an agent id');
  return value;
}

function textAt(value: unknown, path: Path): string {
  if (typeof value !== 'string' || !hasCodePointsBetween(value, 0, STATUS_TEXT_MAX))
    fail(path, `a text of at most ${STATUS_TEXT_MAX} characters`);
  return value;
}

/** `{ [key]: check(value) }` when the message has `key`; nothing when it is absent. */
function optional<T>(
  message: Record<string, unknown>,
  key: string,
  check: (value: unknown, path: Path) => T,
): Record<string, T> {
  const value = message[key];
  return value === undefined ? {} : { [key]: check(value, [key]) };
}

function statusOf(message: Record<string, unknown>): StatusMessage {
  return {
    type: 'status',
    agentId: agentIdAt(message.agentId, ['agentId']),
    taskId: taskIdAt(message.taskId, ['taskId']),
    state: oneOfAt(message.state, MesosTaskState, ['state']),
    ...optional(message, 'message', textAt),
    ...optional(message, 'reason', (value, path) => oneOfAt(value, FAILURE_REASONS, path)),
    ...optional(message, 'exitCode', (value, path) => wholeAt(value, path)),
    ...optional(message, 'fuelUsed', (value, path) => wholeAt(value, path, 0)),
    seq: wholeAt(message.seq, ['seq']),
    ...optional(message, 'prev', (value, path) => wholeAt(value, path)),
    ...optional(message, 'acked', (value, path) => wholeAt(value, path)),
    at: wholeAt(message.at, ['at'], 0),
  };
}

function healthOf(message: Record<string, unknown>): HealthMessage {
  const check = wholeAt(message.check, ['check'], 0);
  if (check > 1_000) fail(['check'], 'a health check index (0 to 1000)');
  if (typeof message.alive !== 'boolean') fail(['alive'], 'true or false');
  return {
    type: 'health',
    agentId: agentIdAt(message.agentId, ['agentId']),
    taskId: taskIdAt(message.taskId, ['taskId']),
    check,
    alive: message.alive,
    ...optional(message, 'cause', textAt),
    at: wholeAt(message.at, ['at'], 0),
  };
}

/** The status stream's `schema`: a status or a health result, by `type`. */
export const StatusStreamCheck: MessageSchema<StatusMessage | HealthMessage> = handWritten(
  (value) => {
    const message = objectAt(value, []);
    if (message.type === 'status') return statusOf(message);
    if (message.type === 'health') return healthOf(message);
    return fail(['type'], 'status or health');
  },
);
