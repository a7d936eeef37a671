// What an agent puts in its offers is its own text: role names, host access paths and counters are
// checked at the bus boundary.
import { describe, expect, it } from 'vitest';
import { OfferMessageSchema } from './message-schemas.js';

const offer = (reservations: unknown) => ({
  type: 'offer',
  agentId: 'agent-1',
  hostname: 'edge-1',
  attributes: {},
  capabilities: ['wasm'],
  total: { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] },
  free: { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] },
  reservations,
  runningTaskIds: [],
  sentAt: 1,
  startedAt: 1,
});

const web = { role: 'web', cpus: 1, memMiB: 1024, diskMiB: 0 };

describe('offer reservations', () => {
  it('accepts valid role names, prototype keys included', () => {
    const parsed = OfferMessageSchema.safeParse(
      offer([web, { ...web, role: '__proto__' }, { ...web, role: 'constructor' }]),
    );
    expect(parsed.success).toBe(true);
  });

  it.each([
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a control character', 'a\u0000b'],
    ['a leading dash', '-web'],
    ['..', '..'],
    ['an overlong name', 'r'.repeat(129)],
  ])('refuses a role name with %s', (_what, role) => {
    expect(OfferMessageSchema.safeParse(offer([{ ...web, role }])).success).toBe(false);
  });

  it('refuses duplicate roles, bad amounts, more reserved than the total, and too many roles', () => {
    expect(OfferMessageSchema.safeParse(offer([web, web])).success).toBe(false);
    expect(OfferMessageSchema.safeParse(offer([{ ...web, cpus: -1 }])).success).toBe(false);
    expect(OfferMessageSchema.safeParse(offer([{ ...web, memMiB: 1e300 }])).success).toBe(false);
    const twice = [web, { ...web, role: 'db', cpus: 3.5 }];
    expect(OfferMessageSchema.safeParse(offer(twice)).success).toBe(false);
    const many = Array.from({ length: 33 }, (_, i) => ({
      ...web,
      role: `r${i}`,
      cpus: 0.1,
      memMiB: 1,
    }));
    expect(OfferMessageSchema.safeParse(offer(many)).success).toBe(false);
  });
});

describe('offer reserved ports', () => {
  const withPorts = (reservations: unknown[], ports: unknown = [[31000, 33000]]) =>
    OfferMessageSchema.safeParse({
      ...offer(reservations),
      total: { cpus: 4, memMiB: 4096, diskMiB: 0, ports },
    });
  const web = { role: 'web', cpus: 0, memMiB: 0, diskMiB: 0 };

  it('keeps port ranges reserved to roles inside the total', () => {
    const parsed = withPorts([
      { ...web, ports: [[31000, 31010]] },
      { ...web, role: 'db', ports: [[31011, 31011]] },
    ]);
    expect(parsed.success && parsed.data.reservations?.[0]?.ports).toEqual([[31000, 31010]]);
  });

  it.each([
    ['outside the total', [{ ...web, ports: [[40000, 40001]] }]],
    [
      'reserved to two roles',
      [
        { ...web, ports: [[31000, 31010]] },
        { ...web, role: 'db', ports: [[31010, 31020]] },
      ],
    ],
    ['with port 0', [{ ...web, ports: [[0, 10]] }]],
    ['reversed', [{ ...web, ports: [[31010, 31000]] }]],
    ['above 65535', [{ ...web, ports: [[31000, 70000]] }]],
    ['fractional', [{ ...web, ports: [[31000.5, 31001]] }]],
    ['reserved to *', [{ ...web, role: '*', ports: [[31000, 31001]] }]],
    [
      'in more than 1000 ranges',
      [{ ...web, ports: Array.from({ length: 1_001 }, (_, i) => [31000 + i, 31000 + i]) }],
    ],
    [
      'in more than 1000 ranges over several roles',
      Array.from({ length: 3 }, (_, r) => ({
        ...web,
        role: `r${r}`,
        ports: Array.from({ length: 334 }, (_, i) => [31000 + r * 334 + i, 31000 + r * 334 + i]),
      })),
    ],
  ])('refuses reserved ports %s', (_what, reservations) => {
    expect(withPorts(reservations).success).toBe(false);
  });
});

describe('offer host access and counters', () => {
  const access = (volumes: unknown[], dockerParameters: unknown[] = []) =>
    OfferMessageSchema.safeParse({
      ...offer(undefined),
      hostAccess: { volumes, dockerParameters },
      logLinesDropped: 3,
    });

  it('keeps what the agent allows and its dropped-lines counter', () => {
    const parsed = access([{ path: '/srv/data', isReadOnly: true }], ['memory']);
    expect(parsed.success && parsed.data).toMatchObject({
      hostAccess: {
        volumes: [{ path: '/srv/data', isReadOnly: true }],
        dockerParameters: ['memory'],
      },
      logLinesDropped: 3,
    });
  });

  it.each([
    ['a relative path', 'srv'],
    ['a path with ..', '/srv/../etc'],
    ['a path not normalized', '/srv//data/'],
    ['an overlong path', `/${'a'.repeat(5_000)}`],
  ])('refuses %s', (_what, path) => {
    expect(access([{ path, isReadOnly: false }]).success).toBe(false);
  });

  it.each([
    ['negative', -1],
    ['not finite', Number.POSITIVE_INFINITY],
    ['not a number', Number.NaN],
    ['beyond a safe integer', 2 ** 60],
  ])('refuses a dropped-lines counter that is %s', (_what, logLinesDropped) => {
    const parsed = OfferMessageSchema.safeParse({ ...offer(undefined), logLinesDropped });
    expect(parsed.success).toBe(false);
  });

  it('refuses unbounded lists', () => {
    const many = Array.from({ length: 101 }, (_, n) => ({ path: `/v${n}`, isReadOnly: true }));
    expect(access(many).success).toBe(false);
    expect(
      access(
        [],
        Array.from({ length: 101 }, () => 'x'),
      ).success,
    ).toBe(false);
  });

  // The agent says how far it has read its commands: a task it does not list is then taken as
  // gone. Only its own tasks hang on it, but the text is still its own.
  it('accepts a stream entry id as commandsReadTo, and refuses any other text', () => {
    const readTo = (commandsReadTo: unknown) =>
      OfferMessageSchema.safeParse({ ...offer(undefined), commandsReadTo }).success;
    expect(readTo('1764979200000-12')).toBe(true);
    for (const bad of [
      '',
      'abc',
      '-1-0',
      '1-2;x',
      '1-2\n',
      '--flag',
      `${'9'.repeat(40)}-0`,
      12,
      null,
    ])
      expect(readTo(bad), String(bad)).toBe(false);
  });
});
