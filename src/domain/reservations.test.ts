// Reserved port ranges in `--resources` (`ports(web):[40000-40010]`): parsed, kept apart from
// unreserved ports and other roles', split into free pools, and shown per role. Hostile values
// each have a case.
import { describe, expect, it } from 'vitest';
import {
  agentResources,
  parseResourceSpec,
  splitFree,
  unreservedPortsOf,
  usageByRole,
} from './reservations.js';
import type { PortRange, Resources } from './resources.js';
import { firstSharedPort, normalizePortRanges, subtractPortRanges } from './resources.js';

const defaults: Resources = {
  cpus: 8,
  memMiB: 8192,
  diskMiB: 1000,
  ports: [[31000, 32000]],
};

describe('reserved port ranges in --resources', () => {
  it('reserves ports to a role and keeps the unreserved ones given', () => {
    const spec = parseResourceSpec(
      'cpus(web):2;cpus:2;mem(web):1024;mem:3072;ports(web):[40000-40010];ports:[31000-32000]',
    );
    expect(spec.reservations).toEqual([
      { role: 'web', cpus: 2, memMiB: 1024, diskMiB: 0, ports: [[40000, 40010]] },
    ]);
    expect(spec.unreserved.ports).toEqual([[31000, 32000]]);
    const { total, reservations } = agentResources(spec, defaults);
    // The total holds every port the agent gives tasks, reserved ones included.
    expect(total.ports).toEqual([
      [31000, 32000],
      [40000, 40010],
    ]);
    expect(unreservedPortsOf(total, reservations)).toEqual([[31000, 32000]]);
  });

  it('takes ports(*) as unreserved', () => {
    const spec = parseResourceSpec('ports(*):[31000-31005];ports(web):[31006-31010]');
    expect(spec.unreserved.ports).toEqual([[31000, 31005]]);
    expect(spec.reservations[0]?.ports).toEqual([[31006, 31010]]);
  });

  it('cuts reserved ports out of the default range when no unreserved ports are given', () => {
    const spec = parseResourceSpec('ports(web):[31100-31199]');
    const { total, reservations } = agentResources(spec, defaults);
    expect(total.ports).toEqual([[31000, 32000]]);
    expect(unreservedPortsOf(total, reservations)).toEqual([
      [31000, 31099],
      [31200, 32000],
    ]);
  });

  it('gives no unreserved port with ports:[] and only reserved ones', () => {
    const spec = parseResourceSpec('ports(web):[40000-40001];ports:[]');
    const { total, reservations } = agentResources(spec, defaults);
    expect(total.ports).toEqual([[40000, 40001]]);
    expect(unreservedPortsOf(total, reservations)).toEqual([]);
  });

  it('adds up ports named twice for one role, and sorts them', () => {
    const spec = parseResourceSpec('ports(web):[40005-40006];ports(web):[40000-40001,40003-40003]');
    expect(spec.reservations[0]?.ports).toEqual([
      [40000, 40001],
      [40003, 40003],
      [40005, 40006],
    ]);
  });

  it.each([
    [
      'two roles',
      'ports(web):[40000-40010];ports(db):[40010-40020]',
      /ports\(web\).*ports\(db\).*40010/,
    ],
    ['a role and unreserved', 'ports:[31000-32000];ports(web):[31500-31501]', /share port 31500/],
    ['one role twice', 'ports(web):[40000-40010];ports(web):[40005-40006]', /overlap/],
    ['unreserved twice', 'ports:[31000-31010];ports(*):[31005-31006]', /overlap/],
  ])('refuses ranges overlapping between %s', (_what, text, message) => {
    expect(() => parseResourceSpec(text)).toThrow(message);
  });

  it.each([
    ['port 0', 'ports(web):[0-10]'],
    ['a port above 65535', 'ports(web):[65000-65536]'],
    ['a huge number', 'ports(web):[1-99999999999999999999]'],
    ['a reversed range', 'ports(web):[40010-40000]'],
    ['an exponent', 'ports(web):[1e3-2e3]'],
    ['hex', 'ports(web):[0x10-0x20]'],
    ['a fraction', 'ports(web):[1.5-3]'],
    ['a negative port', 'ports(web):[-5-10]'],
    ['a blank end', 'ports(web):[40000-]'],
    ['three ends', 'ports(web):[1-2-3]'],
    ['a word', 'ports(web):[http]'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseResourceSpec(text)).toThrow(/Invalid port range/);
  });

  it('refuses a million tiny ranges in one list, without parsing them all', () => {
    const ranges = Array.from({ length: 1_000_000 }, (_, i) => `${(i % 60000) + 1}`).join(',');
    expect(() => parseResourceSpec(`ports(web):[${ranges}]`)).toThrow(/At most 1000 port ranges/);
  });

  it('refuses more than 1000 ranges spread over many parts and roles', () => {
    const parts = Array.from({ length: 1_001 }, (_, i) => `ports(r${i % 30}):[${2 * i + 1}]`);
    expect(() => parseResourceSpec(parts.join(';'))).toThrow(/At most 1000 port ranges/);
  });

  it('refuses reserved ranges that would push the total past the offer bound', () => {
    // 1000 one-port ranges outside the default range: the total would hold 1001 ranges.
    const ranges = Array.from({ length: 1_000 }, (_, i) => `${1 + 2 * i}`).join(',');
    const spec = parseResourceSpec(`ports(web):[${ranges}]`);
    expect(() => agentResources(spec, defaults)).toThrow(/At most 1000/);
  });

  it.each([
    ['a slash', 'ports(a/b):[40000-40001]', /slash/],
    ['a space', 'ports(a b):[40000-40001]', /space/],
    ['a leading dash', 'ports(-web):[40000-40001]', /start with/],
    ['..', 'ports(..):[40000-40001]', /must not be/],
    ['an empty name', 'ports():[40000-40001]', /must not be ""/],
    ['a control character', 'ports(we\u0001b):[40000-40001]', /control/],
    ['an overlong name', `ports(${'r'.repeat(129)}):[40000-40001]`, /longer than/],
  ])('refuses a role name with %s', (_what, text, message) => {
    expect(() => parseResourceSpec(text)).toThrow(message);
  });

  it('takes __proto__ as a plain role for ports', () => {
    const spec = parseResourceSpec('ports(__proto__):[40000-40001]');
    expect(spec.reservations[0]).toMatchObject({ role: '__proto__', ports: [[40000, 40001]] });
  });
});

describe('free reserved ports', () => {
  const total: Resources = {
    cpus: 4,
    memMiB: 4096,
    diskMiB: 0,
    ports: [
      [31000, 31003],
      [40000, 40003],
    ],
  };
  const reservations = [
    { role: 'web', cpus: 1, memMiB: 1024, diskMiB: 0, ports: [[40000, 40003]] as PortRange[] },
  ];
  const held = [
    { resources: { cpus: 0.5, memMiB: 128, diskMiB: 0 }, reservationRole: 'web', ports: [40001] },
    { resources: { cpus: 0.5, memMiB: 128, diskMiB: 0 }, ports: [31002] },
  ];

  it('takes each held port out of the pool that holds it', () => {
    const { freePorts, freeReserved } = splitFree({ total, reported: total, reservations, held });
    expect(freePorts).toEqual([
      [31000, 31001],
      [31003, 31003],
    ]);
    expect(freeReserved[0]?.ports).toEqual([
      [40000, 40000],
      [40002, 40003],
    ]);
  });

  it('shows reserved ports per role: total, used and free', () => {
    const rows = usageByRole({ total, reported: total, reservations, held });
    expect(rows.map((r) => [r.role, r.total.ports, r.used.ports, r.free.ports])).toEqual([
      [
        '*',
        [[31000, 31003]],
        [[31002, 31002]],
        [
          [31000, 31001],
          [31003, 31003],
        ],
      ],
      [
        'web',
        [[40000, 40003]],
        [[40001, 40001]],
        [
          [40000, 40000],
          [40002, 40003],
        ],
      ],
    ]);
  });
});

describe('port range helpers', () => {
  it('merges, subtracts and finds shared ports', () => {
    expect(
      normalizePortRanges([
        [5, 9],
        [1, 3],
        [4, 4],
        [20, 30],
        [25, 26],
      ]),
    ).toEqual([
      [1, 9],
      [20, 30],
    ]);
    expect(
      subtractPortRanges(
        [[1, 100]],
        [
          [1, 10],
          [50, 60],
          [100, 200],
        ],
      ),
    ).toEqual([
      [11, 49],
      [61, 99],
    ]);
    expect(firstSharedPort([[1, 10]], [[11, 20]])).toBeUndefined();
    expect(
      firstSharedPort(
        [
          [1, 10],
          [30, 40],
        ],
        [
          [11, 20],
          [35, 50],
        ],
      ),
    ).toBe(35);
  });
});
