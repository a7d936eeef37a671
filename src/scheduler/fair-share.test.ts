// Dominant Resource Fairness, weights, quota and reservations in schedule(): the paper's own
// example and the rules of Mesos's allocator, each as a named case.
import { describe, expect, it } from 'vitest';
import type { AppDefinition, Instance, RolePolicy } from '../domain/index.js';
import { makeAgent, makeApp, makeInstance } from './fixtures.js';
import { schedule } from './schedule.js';
import type { Plan, PlacementRequest, SchedulingSnapshot } from './types.js';

/** `count` requests of `app`, ids `<app>-<n>`. */
function want(app: AppDefinition, count: number): PlacementRequest[] {
  return Array.from({ length: count }, (_, n) => ({ instanceId: `${app.id}-${n}`, app }));
}

/** Requests of several apps interleaved, as a pass lists them (no role goes first by order). */
function interleave(...lists: PlacementRequest[][]): PlacementRequest[] {
  const out: PlacementRequest[] = [];
  for (let i = 0; i < Math.max(...lists.map((l) => l.length)); i++)
    for (const list of lists) if (list[i]) out.push(list[i] as PlacementRequest);
  return out;
}

function plan(overrides: Partial<SchedulingSnapshot>): Plan {
  return schedule({
    apps: [],
    instances: [],
    agents: [],
    requests: [],
    now: 0,
    seed: 'fair',
    ...overrides,
  });
}

const countBy = (p: Plan, appId: string) => p.placements.filter((x) => x.appId === appId).length;

/** One agent with 9 cpus and 18 GiB, the paper's cluster. */
const paperAgent = makeAgent({
  total: { cpus: 9, memMiB: 18 * 1024, diskMiB: 0, ports: [] },
});

describe('dominant resource fairness', () => {
  it("reproduces the paper's example: A runs 3 tasks, B 2, both at dominant share 2/3", () => {
    const a = makeApp({ id: '/a/app', role: 'a', cpus: 1, mem: 4 * 1024 });
    const b = makeApp({ id: '/b/app', role: 'b', cpus: 3, mem: 1024 });
    // B's requests listed first: the order of the requests does not decide, the shares do.
    const p = plan({ agents: [paperAgent], requests: [...want(b, 10), ...want(a, 10)] });
    expect(countBy(p, '/a/app')).toBe(3);
    expect(countBy(p, '/b/app')).toBe(2);
  });

  it('gives roles with weights 2:1 dominant shares 2:1', () => {
    const agent = makeAgent({ total: { cpus: 30, memMiB: 30 * 1024, diskMiB: 0, ports: [] } });
    const heavy = makeApp({ id: '/heavy/app', role: 'heavy', cpus: 1, mem: 1024 });
    const light = makeApp({ id: '/light/app', role: 'light', cpus: 1, mem: 1024 });
    const policies: RolePolicy[] = [{ role: 'heavy', weight: 2 }];
    const p = plan({
      agents: [agent],
      requests: [...want(light, 40), ...want(heavy, 40)],
      rolePolicies: policies,
    });
    expect(countBy(p, '/heavy/app')).toBe(20);
    expect(countBy(p, '/light/app')).toBe(10);
  });

  it('counts what a role already runs: the role behind catches up first', () => {
    const agent = makeAgent({ total: { cpus: 10, memMiB: 10 * 1024, diskMiB: 0, ports: [] } });
    const a = makeApp({ id: '/a/app', role: 'a', cpus: 1, mem: 1024 });
    const b = makeApp({ id: '/b/app', role: 'b', cpus: 1, mem: 1024 });
    const running: Instance[] = Array.from({ length: 4 }, (_, n) =>
      makeInstance({
        instanceId: `a-running-${n}`,
        appId: '/a/app',
        role: 'a',
        resources: { cpus: 1, memMiB: 1024, diskMiB: 0 },
      }),
    );
    const free = { cpus: 6, memMiB: 6 * 1024, diskMiB: 0, ports: [] };
    const p = plan({
      agents: [{ ...agent, free }],
      instances: running,
      requests: interleave(want(a, 10), want(b, 10)),
    });
    // 6 free: b goes to 4 to draw level, then they alternate: a 5, b 5.
    expect(countBy(p, '/b/app')).toBe(5);
    expect(countBy(p, '/a/app')).toBe(1);
  });
});

describe('why an instance waits for fairness', () => {
  const a = makeApp({ id: '/a/app', role: 'a', cpus: 1, mem: 4 * 1024 });
  const b = makeApp({ id: '/b/app', role: 'b', cpus: 3, mem: 1024 });

  it('tells a waiting request the agents that roles with a lower share took this round', () => {
    const p = plan({ agents: [paperAgent], requests: [...want(b, 10), ...want(a, 10)] });
    const waitingB = p.unplaced.find((u) => u.appId === '/b/app');
    // B would have fit on the one agent at the start; A, whose share was lower, took it.
    expect(waitingB?.reasons.DeclinedFairShare).toBe(1);
    expect(waitingB?.reasons.InsufficientCpus).toBe(1);
  });

  it('does not blame fairness when the role itself filled the agent', () => {
    const p = plan({ agents: [paperAgent], requests: want(b, 10) });
    const waiting = p.unplaced.find((u) => u.appId === '/b/app');
    expect(waiting?.reasons).toEqual({ InsufficientCpus: 1 });
  });

  it('does not blame fairness for an agent the request never fitted on', () => {
    const small = makeAgent({
      agentId: 'small',
      hostname: 'small',
      total: { cpus: 2, memMiB: 18 * 1024, diskMiB: 0, ports: [] },
    });
    const p = plan({ agents: [small], requests: [...want(b, 2), ...want(a, 4)] });
    const waitingB = p.unplaced.find((u) => u.appId === '/b/app');
    expect(waitingB?.reasons.DeclinedFairShare).toBeUndefined();
    expect(waitingB?.reasons.InsufficientCpus).toBe(1);
  });
});

describe('quota', () => {
  const agent = makeAgent({ total: { cpus: 8, memMiB: 8 * 1024, diskMiB: 0, ports: [] } });

  it('never places beyond a limit, and says why', () => {
    const a = makeApp({ id: '/a/app', role: 'a', cpus: 1, mem: 256 });
    const p = plan({
      agents: [agent],
      requests: want(a, 6),
      rolePolicies: [{ role: 'a', quota: { guarantees: {}, limits: { cpus: 2.5 } } }],
    });
    expect(countBy(p, '/a/app')).toBe(2);
    expect(p.unplaced).toHaveLength(4);
    expect(p.unplaced[0]?.reasons).toEqual({ InsufficientQuota: 1 });
  });

  it('meets a guarantee before any other role grows, even with the larger share', () => {
    const big = makeApp({ id: '/big/app', role: 'big', cpus: 1, mem: 1024 });
    const small = makeApp({ id: '/small/app', role: 'small', cpus: 1, mem: 1024 });
    const running = Array.from({ length: 2 }, (_, n) =>
      makeInstance({
        instanceId: `big-${n}`,
        appId: '/big/app',
        role: 'big',
        resources: { cpus: 1, memMiB: 1024, diskMiB: 0 },
      }),
    );
    const p = plan({
      agents: [{ ...agent, free: { cpus: 6, memMiB: 6 * 1024, diskMiB: 0, ports: [] } }],
      instances: running,
      requests: interleave(want(small, 10), want(big, 10)),
      rolePolicies: [{ role: 'big', quota: { guarantees: { cpus: 6 }, limits: {} } }],
    });
    // big holds 2 and is guaranteed 6: it takes 4 more before small gets any; small gets 2.
    expect(countBy(p, '/big/app')).toBe(4);
    expect(countBy(p, '/small/app')).toBe(2);
  });

  it('holds unreserved resources back for a guarantee whose role is not asking yet', () => {
    const other = makeApp({ id: '/other/app', role: 'other', cpus: 1, mem: 256 });
    const p = plan({
      agents: [agent],
      requests: want(other, 8),
      rolePolicies: [{ role: 'team', quota: { guarantees: { cpus: 3 }, limits: {} } }],
    });
    expect(countBy(p, '/other/app')).toBe(5);
    expect(p.unplaced[0]?.reasons).toEqual({ DeclinedQuotaGuarantee: 1 });
  });
});

describe('roles and reservations', () => {
  const reservedAgent = makeAgent({
    total: { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] },
    free: { cpus: 2, memMiB: 2048, diskMiB: 0, ports: [] },
    reservations: [{ role: 'web', cpus: 2, memMiB: 2048, diskMiB: 0 }],
    freeReserved: [{ role: 'web', cpus: 2, memMiB: 2048, diskMiB: 0 }],
  });

  it("gives resources reserved to a role only to that role's apps", () => {
    const web = makeApp({ id: '/web/app', role: 'web', cpus: 1, mem: 512 });
    const other = makeApp({ id: '/other', cpus: 1, mem: 512 });
    const p = plan({ agents: [reservedAgent], requests: [...want(other, 4), ...want(web, 1)] });
    expect(countBy(p, '/other')).toBe(2);
    expect(countBy(p, '/web/app')).toBe(1);
    const refused = p.unplaced.find((u) => u.appId === '/other');
    // It would fit in web's reservation: refused for the role, in Marathon's word.
    expect(refused?.reasons).toEqual({ UnfulfilledRole: 1 });
  });

  it('uses the reservation first and says so in the placement', () => {
    const web = makeApp({ id: '/web/app', role: 'web', cpus: 1, mem: 512 });
    const p = plan({ agents: [reservedAgent], requests: want(web, 1) });
    expect(p.placements[0]?.reservationRole).toBe('web');
    expect(p.placements[0]?.role).toBe('web');
  });

  it('keeps an app that accepts only its role off unreserved resources', () => {
    const web = makeApp({
      id: '/web/app',
      role: 'web',
      cpus: 1,
      mem: 512,
      acceptedResourceRoles: ['web'],
    });
    const p = plan({ agents: [reservedAgent], requests: want(web, 4) });
    expect(countBy(p, '/web/app')).toBe(2);
  });

  it("keeps an app that accepts only '*' off its role's reservation", () => {
    const web = makeApp({
      id: '/web/app',
      role: 'web',
      cpus: 1,
      mem: 512,
      acceptedResourceRoles: ['*'],
    });
    const p = plan({ agents: [reservedAgent], requests: want(web, 4) });
    expect(countBy(p, '/web/app')).toBe(2);
    expect(p.placements[0]?.reservationRole).toBeUndefined();
  });

  it('treats prototype-key role names as plain roles', () => {
    const proto = makeApp({ id: '/__proto__/app', role: '__proto__', cpus: 1, mem: 256 });
    const other = makeApp({ id: '/toString/app', role: 'toString', cpus: 1, mem: 256 });
    const p = plan({
      agents: [makeAgent()],
      requests: interleave(want(proto, 4), want(other, 4)),
      rolePolicies: [{ role: '__proto__', quota: { guarantees: {}, limits: { cpus: 1 } } }],
    });
    expect(countBy(p, '/__proto__/app')).toBe(1);
    expect(countBy(p, '/toString/app')).toBe(3);
  });
});
