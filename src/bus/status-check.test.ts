// The master's hand-written check of the status stream is as strict as the zod schema it
// replaced: the same verdict and the same output (unknown fields dropped) for a corpus of valid
// and invalid messages and for generated ones. The zod schema below is that reference, kept here
// only; it uses the same shared bounds, so the two cannot drift apart on them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FailureReason, MesosTaskState } from '../domain/index.js';
import { AGENT_ID_PATTERN, TASK_ID_MAX_LENGTH } from './message-check.js';
import { STATUS_TEXT_MAX, StatusStreamCheck } from './status-check.js';
import {
  assertAgreesOnGenerated,
  itAgreesOnCorpus,
  mutated,
} from '../../test/support/check-against-zod.js';

const agentId = z.string().regex(AGENT_ID_PATTERN);
const taskId = z.string().min(1).max(TASK_ID_MAX_LENGTH);
const epochMs = z.number().int().nonnegative();
const text = z.string().max(STATUS_TEXT_MAX);
const ZodStatusStreamSchema = z.union([
  z.object({
    type: z.literal('status'),
    agentId,
    taskId,
    state: z.enum(MesosTaskState),
    message: text.optional(),
    reason: z.enum(Object.values(FailureReason) as [FailureReason, ...FailureReason[]]).optional(),
    exitCode: z.number().int().optional(),
    fuelUsed: z.number().int().nonnegative().optional(),
    seq: z.number().int(),
    prev: z.number().int().optional(),
    acked: z.number().int().optional(),
    at: epochMs,
  }),
  z.object({
    type: z.literal('health'),
    agentId,
    taskId,
    check: z.number().int().nonnegative().max(1_000),
    alive: z.boolean(),
    cause: text.optional(),
    at: epochMs,
  }),
]);

const status = {
  type: 'status',
  agentId: 'edge-1',
  taskId: 'web.instance-1._app.1',
  state: 'TASK_FAILED',
  message: 'OUT_OF_FUEL: spent its budget',
  reason: 'OUT_OF_FUEL',
  exitCode: -1,
  fuelUsed: 1_000_000,
  seq: 7,
  prev: 6,
  acked: 5,
  at: 1_767_225_600_000,
};
const health = {
  type: 'health',
  agentId: 'edge-1',
  taskId: 'web.instance-1._app.1',
  check: 0,
  alive: false,
  cause: 'connection refused',
  at: 1_767_225_600_000,
};

/** Messages that pass, at the edges of their bounds. */
const valid: unknown[] = [
  status,
  { type: 'status', agentId: 'a', taskId: 't', state: 'TASK_RUNNING', seq: 0, at: 0 },
  { ...status, extra: 'dropped', seq: -3, prev: Number.MIN_SAFE_INTEGER },
  { ...status, message: 'x'.repeat(STATUS_TEXT_MAX), fuelUsed: 0 },
  { ...status, message: '😀'.repeat(STATUS_TEXT_MAX) },
  { ...status, taskId: '😀'.repeat(TASK_ID_MAX_LENGTH), agentId: 'a'.repeat(128) },
  health,
  { ...health, check: 1_000, alive: true, cause: undefined },
  JSON.parse(
    '{"type":"health","agentId":"a","taskId":"t","check":1,"alive":true,"at":1,"__proto__":{"x":1}}',
  ),
];

/** Messages that fail, one wrong field each. */
const invalid: unknown[] = [
  null,
  [],
  'status',
  {},
  { ...status, type: 'offer' },
  { ...status, agentId: 'a:b' },
  { ...status, agentId: '*' },
  { ...status, agentId: 'a'.repeat(129) },
  { ...status, taskId: '' },
  { ...status, taskId: 'x'.repeat(TASK_ID_MAX_LENGTH + 1) },
  { ...status, state: 'TASK_EXPLODED' },
  { ...status, message: 'x'.repeat(STATUS_TEXT_MAX + 1) },
  { ...status, message: 7 },
  { ...status, reason: 'BORED' },
  { ...status, exitCode: 1.5 },
  { ...status, fuelUsed: -1 },
  { ...status, fuelUsed: 2 ** 53 },
  { ...status, seq: '7' },
  { ...status, seq: undefined },
  { ...status, prev: Infinity },
  { ...status, acked: NaN },
  { ...status, at: -1 },
  { ...health, check: 1_001 },
  { ...health, check: -1 },
  { ...health, alive: 'yes' },
  { ...health, cause: ['x'] },
  { ...health, at: undefined },
  JSON.parse(
    '{"type":"status","agentId":"a","taskId":"t","state":"TASK_RUNNING","seq":1e400,"at":1}',
  ),
];

const pair = { ours: StatusStreamCheck, reference: ZodStatusStreamSchema };

describe("the master's status stream check", () => {
  itAgreesOnCorpus(pair, { what: 'message', valid, invalid });

  it('drops fields it does not know, and says which field is wrong', () => {
    const kept = StatusStreamCheck.safeParse({ ...status, isAdmin: true, __proto__: { x: 1 } });
    expect(kept.success && Object.keys(kept.data)).not.toContain('isAdmin');
    const result = StatusStreamCheck.safeParse({ ...status, fuelUsed: -1 });
    expect(String(!result.success && result.error)).toContain('fuelUsed');
  });

  it('gives the same verdict and output as zod on generated messages', () => {
    // Values around the bounds and of the wrong types, put into every field of both messages.
    const anyValue = fc.oneof(
      fc.constantFrom(
        0,
        -0,
        -1,
        1.5,
        1_000,
        1_001,
        2 ** 53,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER,
        Infinity,
        NaN,
        '',
        'a',
        'a:b',
        '😀',
        '\udc00',
        null,
        undefined,
        true,
        false,
        [],
        {},
        'status',
        'health',
        'TASK_RUNNING',
        'OUT_OF_FUEL',
      ),
      fc.string({ maxLength: 4 }),
      fc.double(),
      fc.integer(),
    );
    const message = fc.oneof(mutated(status, anyValue), mutated(health, anyValue), anyValue);
    assertAgreesOnGenerated(pair, message);
  });
});
