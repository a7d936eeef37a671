// The agent's hand-written command check is as strict as the zod schema it replaced (issue 14):
// the same verdict and the same output for a corpus of valid and invalid commands and for
// generated ones. The zod schema below is that reference, kept here only (the master never reads
// commands); it uses the same shared bounds (message-check.ts), so the two cannot drift apart on
// them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TaskKind } from '../domain/index.js';
import { CommandMessageSchema } from './command-schema.js';
import { PORT_MAX, QUANTITY_MAX, TASK_ID_MAX_LENGTH } from './message-check.js';
import {
  assertAgreesOnGenerated,
  itAgreesOnCorpus,
  mutated,
} from '../../test/support/check-against-zod.js';

const taskId = z.string().min(1).max(TASK_ID_MAX_LENGTH);
const quantity = z.number().nonnegative().max(QUANTITY_MAX);
const port = z.number().int().min(0).max(PORT_MAX);
const ZodCommandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('launch'),
    taskId,
    spec: z.looseObject({
      kind: z.enum(TaskKind),
      appId: z.string(),
      env: z.record(z.string(), z.string()),
      labels: z.record(z.string(), z.string()),
      fetch: z.array(z.unknown()),
      resources: z.object({ cpus: quantity, memMiB: quantity, diskMiB: quantity }),
      ports: z.array(port),
    }),
  }),
  z.object({ type: z.literal('kill'), taskId }),
  z.object({ type: z.literal('reconcile'), taskIds: z.array(taskId) }),
  z.object({ type: z.literal('ack'), seq: z.number().int().nonnegative() }),
  z.object({ type: z.literal('resend') }),
]);

const spec = {
  kind: 'wasm',
  appId: '/web',
  appVersion: '2026-01-01T00:00:00.000Z',
  cmd: 'hello.wasm',
  env: { A: '1' },
  labels: {},
  fetch: [{ uri: 'http://master/a.wasm' }],
  resources: { cpus: 0.5, memMiB: 64, diskMiB: 0 },
  ports: [31000],
  healthChecks: [{ protocol: 'HTTP' }],
};
const launch = { type: 'launch', taskId: 'web.1', spec };

/** Commands that pass, at the edges of their bounds. */
const valid: unknown[] = [
  launch,
  { ...launch, extra: 1 },
  { ...launch, spec: { ...spec, resources: { ...spec.resources, gpus: 1 } } },
  { ...launch, spec: { ...spec, ports: [0, PORT_MAX], env: {}, fetch: [] } },
  { ...launch, spec: { ...spec, resources: { cpus: 0, memMiB: QUANTITY_MAX, diskMiB: -0 } } },
  { ...launch, taskId: 'x'.repeat(TASK_ID_MAX_LENGTH) },
  // Lengths count code points: 1,024 emoji are 2,048 UTF-16 units.
  { ...launch, taskId: '😀'.repeat(TASK_ID_MAX_LENGTH) },
  { ...launch, taskId: '\ud800' },
  { type: 'kill', taskId: 't' },
  { type: 'reconcile', taskIds: [] },
  { type: 'reconcile', taskIds: ['a', 'b'] },
  { type: 'ack', seq: 0 },
  { type: 'ack', seq: Number.MAX_SAFE_INTEGER },
  { type: 'resend', seq: 1 },
  JSON.parse('{"type":"kill","taskId":"t","__proto__":{"x":1}}'),
  JSON.parse(
    '{"type":"launch","taskId":"t","spec":' +
      JSON.stringify(spec).replace('"A":"1"', '"constructor":"c"') +
      '}',
  ),
];

/** Commands that fail, one wrong field each. */
const invalid: unknown[] = [
  null,
  [],
  'launch',
  {},
  { type: 'start', taskId: 't' },
  { type: 'kill' },
  { type: 'kill', taskId: '' },
  { type: 'kill', taskId: 7 },
  { type: 'kill', taskId: 'x'.repeat(TASK_ID_MAX_LENGTH + 1) },
  { type: 'kill', taskId: '😀'.repeat(TASK_ID_MAX_LENGTH) + 'x' },
  { type: 'reconcile' },
  { type: 'reconcile', taskIds: 'a' },
  { type: 'reconcile', taskIds: ['a', ''] },
  { type: 'reconcile', taskIds: { 0: 'a' } },
  { type: 'ack' },
  { type: 'ack', seq: -1 },
  { type: 'ack', seq: 1.5 },
  { type: 'ack', seq: 2 ** 53 },
  { type: 'ack', seq: '1' },
  { type: 'ack', seq: Infinity },
  { type: 'ack', seq: NaN },
  { type: 'launch', taskId: 't' },
  { type: 'launch', spec },
  { type: 'launch', taskId: 't', spec: [] },
  { ...launch, spec: { ...spec, kind: 'vm' } },
  { ...launch, spec: { ...spec, appId: undefined } },
  { ...launch, spec: { ...spec, appId: 1 } },
  { ...launch, spec: { ...spec, env: { A: 1 } } },
  { ...launch, spec: { ...spec, env: [] } },
  { ...launch, spec: { ...spec, env: null } },
  { ...launch, spec: { ...spec, labels: { L: null } } },
  { ...launch, spec: { ...spec, fetch: {} } },
  { ...launch, spec: { ...spec, resources: undefined } },
  { ...launch, spec: { ...spec, resources: { cpus: 1, memMiB: 1 } } },
  { ...launch, spec: { ...spec, resources: { ...spec.resources, cpus: -0.1 } } },
  { ...launch, spec: { ...spec, resources: { ...spec.resources, memMiB: QUANTITY_MAX * 2 } } },
  { ...launch, spec: { ...spec, resources: { ...spec.resources, diskMiB: Infinity } } },
  { ...launch, spec: { ...spec, resources: { ...spec.resources, cpus: NaN } } },
  { ...launch, spec: { ...spec, resources: { ...spec.resources, cpus: '1' } } },
  { ...launch, spec: { ...spec, ports: [PORT_MAX + 1] } },
  { ...launch, spec: { ...spec, ports: [-1] } },
  { ...launch, spec: { ...spec, ports: [80.5] } },
  { ...launch, spec: { ...spec, ports: ['80'] } },
  { ...launch, spec: { ...spec, ports: 80 } },
  JSON.parse('{"type":"ack","seq":1e400}'),
];

const pair = { ours: CommandMessageSchema, reference: ZodCommandSchema };

describe('the agent command check', () => {
  itAgreesOnCorpus(pair, { what: 'command', valid, invalid });

  it('says which field is wrong', () => {
    const result = CommandMessageSchema.safeParse({
      ...launch,
      spec: { ...spec, resources: { ...spec.resources, memMiB: -1 } },
    });
    expect(result.success).toBe(false);
    expect(String(!result.success && result.error)).toContain('spec.resources.memMiB');
  });

  it('gives the same verdict and output as zod on generated commands', () => {
    // Values around the bounds and of the wrong types, put into every field of every command.
    const anyValue = fc.oneof(
      fc.constantFrom(
        0,
        -0,
        -1,
        1.5,
        2 ** 53,
        Number.MAX_SAFE_INTEGER,
        PORT_MAX,
        PORT_MAX + 1,
        QUANTITY_MAX,
        QUANTITY_MAX + 1,
        Infinity,
        NaN,
        '',
        'a',
        '😀',
        '\udc00',
        null,
        undefined,
        true,
        [],
        {},
        'wasm',
        'command',
        'container',
        'launch',
        'kill',
      ),
      fc.string({ maxLength: 4 }),
      fc.double(),
      fc.integer(),
      fc.array(fc.oneof(fc.integer({ min: -2, max: PORT_MAX + 2 }), fc.string()), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.integer()), {
        maxKeys: 3,
      }),
    );
    const command = fc.oneof(
      mutated(launch, anyValue),
      mutated(spec, anyValue).map((s) => ({ ...launch, spec: s })),
      mutated(spec.resources, anyValue).map((r) => ({
        ...launch,
        spec: { ...spec, resources: r },
      })),
      mutated({ type: 'kill', taskId: 't' }, anyValue),
      mutated({ type: 'reconcile', taskIds: ['a'] }, anyValue),
      mutated({ type: 'ack', seq: 3 }, anyValue),
      mutated({ type: 'resend' }, anyValue),
      anyValue,
    );
    assertAgreesOnGenerated(pair, command);
  });
});
