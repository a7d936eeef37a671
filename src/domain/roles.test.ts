// Role names, an app's roles, and `--resources` with reservations (Mesos's syntax).
import { describe, expect, it } from 'vitest';
import { agentResources, parseResourceSpec, splitFree } from './reservations.js';
import { resourceAccessOf, roleNameErrors, roleSettingsFor } from './roles.js';

describe('role names', () => {
  it.each([
    ['', 'A role name must not be "".'],
    ['.', 'A role name must not be ".".'],
    ['..', 'A role name must not be "..".'],
    ['-web', "A role name must not start with a '-'."],
    ['a b', 'A role name must not include a space (\\x20) character.'],
    ['a/b', 'A role name must not include a slash (\\x2f) character.'],
    ['a\nb', 'A role name must not include a line feed (\\x0a) character.'],
    ['a\u0000b', 'A role name must not include a control character.'],
  ])('refuses %j in Marathon words', (role, message) => {
    expect(roleNameErrors(role)).toContain(message);
  });

  it.each(['*', 'web', '__proto__', 'toString', 'a.b', 'x-1'])('accepts %j', (role) => {
    expect(roleNameErrors(role)).toEqual([]);
  });

  it('allows an app `*` and its top-level group only, defaulting to `*`', () => {
    const settings = (appId: string) => roleSettingsFor({ appId, isGroupEnforcingRole: false });
    expect(settings('/web/api/v1')).toEqual({ validRoles: ['*', 'web'], defaultRole: '*' });
    expect(settings('/solo')).toEqual({ validRoles: ['*'], defaultRole: '*' });
  });

  it("allows only the group's role under a group that enforces it, and defaults to it", () => {
    expect(roleSettingsFor({ appId: '/web/api', isGroupEnforcingRole: true })).toEqual({
      validRoles: ['web'],
      defaultRole: 'web',
    });
  });

  it('keeps the role an app has valid when its group starts enforcing another', () => {
    const settings = roleSettingsFor({
      appId: '/web/api',
      isGroupEnforcingRole: true,
      currentRole: '*',
    });
    expect(settings).toEqual({ validRoles: ['web', '*'], defaultRole: 'web' });
  });

  it('never lets an app at the root keep a role other than `*`', () => {
    const settings = roleSettingsFor({
      appId: '/solo',
      isGroupEnforcingRole: true,
      currentRole: 'x',
    });
    expect(settings).toEqual({ validRoles: ['*'], defaultRole: '*' });
  });

  it('lets acceptedResourceRoles choose unreserved, reserved or both', () => {
    expect(resourceAccessOf({ role: 'web' })).toEqual({
      isUnreservedAccepted: true,
      reservedRole: 'web',
    });
    expect(resourceAccessOf({ role: 'web', acceptedResourceRoles: ['web'] })).toEqual({
      isUnreservedAccepted: false,
      reservedRole: 'web',
    });
    expect(resourceAccessOf({ role: '*' })).toEqual({
      isUnreservedAccepted: true,
      reservedRole: undefined,
    });
  });
});

describe('--resources with reservations', () => {
  const defaults = {
    cpus: 8,
    memMiB: 8192,
    diskMiB: 1000,
    ports: [[31000, 32000]] as [number, number][],
  };

  it("parses the issue's example: reserved and unreserved add up, ports unreserved", () => {
    const spec = parseResourceSpec('cpus(web):2;cpus:2;mem(web):1024;mem:3072;ports:[31000-32000]');
    expect(spec.reservations).toEqual([{ role: 'web', cpus: 2, memMiB: 1024, diskMiB: 0 }]);
    const { total } = agentResources(spec, defaults);
    expect(total).toEqual({ cpus: 4, memMiB: 4096, diskMiB: 1000, ports: [[31000, 32000]] });
  });

  it('never offers more than the machine has when unreserved amounts are left out', () => {
    const { total } = agentResources(parseResourceSpec('cpus(web):2;mem(db):512'), defaults);
    expect(total.cpus).toBe(8);
    expect(total.memMiB).toBe(8192);
  });

  it('still parses the comma form', () => {
    expect(parseResourceSpec('cpus:2,mem:1024').unreserved).toEqual({ cpus: 2, memMiB: 1024 });
  });

  it.each([
    ['cpus(a b):1;mem:1', /space/],
    ['cpus(-x):1;mem:1', /start with/],
    ['cpus(web):-1;mem:1', />= 0/],
    ['cpus(web):NaN;', />= 0/],
    ['gpus(web):1;', /Unknown resource/],
    ['cpus(web:1;', /Invalid resource/],
  ])('refuses %j', (text, message) => {
    expect(() => parseResourceSpec(text)).toThrow(message);
  });

  it('takes __proto__ as a plain role name', () => {
    const spec = parseResourceSpec('cpus(__proto__):1;cpus(constructor):2');
    expect(spec.reservations.map((r) => [r.role, r.cpus])).toEqual([
      ['__proto__', 1],
      ['constructor', 2],
    ]);
    expect(({} as Record<string, unknown>).cpus).toBeUndefined();
  });

  it('bounds the number of roles', () => {
    const text = Array.from({ length: 40 }, (_, i) => `cpus(r${i}):0.1`).join(';');
    expect(() => parseResourceSpec(text)).toThrow(/At most/);
  });

  it('splits free resources: reserved first for the role, the rest unreserved', () => {
    const total = { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] };
    const { free, freeReserved } = splitFree({
      total,
      reported: total,
      reservations: [{ role: 'web', cpus: 2, memMiB: 1024, diskMiB: 0 }],
      held: [
        { resources: { cpus: 3, memMiB: 512, diskMiB: 0 }, reservationRole: 'web' },
        { resources: { cpus: 0.5, memMiB: 512, diskMiB: 0 } },
      ],
    });
    expect(freeReserved).toEqual([{ role: 'web', cpus: 0, memMiB: 512, diskMiB: 0 }]);
    expect(free).toEqual({ cpus: 0.5, memMiB: 2560, diskMiB: 0 });
  });
});
