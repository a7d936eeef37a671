// Port ranges reserved to a role (`ports(web):[40000-40002]`) in schedule(): the role's apps take
// them first, other roles never get them, and `acceptedResourceRoles` picks the pools, as Mesos.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Agent, AppDefinition, PortRange } from '../domain/index.js';
import { isPortInRanges, roleOf } from '../domain/index.js';
import { makeAgent, makeApp } from './fixtures.js';
import { schedule } from './schedule.js';
import type { Plan, PlacementRequest } from './types.js';

const WEB_PORTS: PortRange[] = [[40000, 40002]];

/** Ports 31000-31001 unreserved; 40000-40002, 1 cpu and 1 GiB reserved to `web`. */
function agentWith(unreserved: PortRange[] = [[31000, 31001]], agentId = 'agent-1'): Agent {
  return makeAgent({
    agentId,
    total: { cpus: 9, memMiB: 9216, diskMiB: 0, ports: [...unreserved, ...WEB_PORTS] },
    free: { cpus: 8, memMiB: 8192, diskMiB: 0, ports: unreserved },
    reservations: [{ role: 'web', cpus: 1, memMiB: 1024, diskMiB: 0, ports: WEB_PORTS }],
    freeReserved: [{ role: 'web', cpus: 1, memMiB: 1024, diskMiB: 0, ports: WEB_PORTS }],
  });
}

/** An app with `ports` port definitions (0: any port). */
function appWith(overrides: Partial<AppDefinition>, ports: number[] = [0]): AppDefinition {
  return makeApp({
    cpus: 0.1,
    mem: 16,
    portDefinitions: ports.map((port) => ({ port, protocol: 'tcp' })),
    ...overrides,
  });
}

function want(app: AppDefinition, count: number): PlacementRequest[] {
  return Array.from({ length: count }, (_, n) => ({ instanceId: `${app.id}-${n}`, app }));
}

function plan(agents: Agent[], requests: PlacementRequest[]): Plan {
  return schedule({ apps: [], instances: [], agents, requests, now: 0, seed: 'ports' });
}

const portsOf = (p: Plan, appId: string) =>
  p.placements.filter((x) => x.appId === appId).flatMap((x) => x.ports);

describe('ports reserved to a role', () => {
  const web = appWith({ id: '/web/api', role: 'web' });
  const star = appWith({ id: '/other' });

  it("gives the role's app its reserved ports first, then unreserved ones", () => {
    const p = plan([agentWith()], want(web, 5));
    expect(portsOf(p, '/web/api')).toEqual([40000, 40001, 40002, 31000, 31001]);
    expect(p.placements[0]?.reservationRole).toBe('web');
  });

  it("never gives a '*' app a port reserved to web, and says the role keeps it waiting", () => {
    const p = plan([agentWith()], want(star, 3));
    expect(portsOf(p, '/other')).toEqual([31000, 31001]);
    expect(p.unplaced).toHaveLength(1);
    // Three web ports are free: the app waits for the role, in Marathon's word.
    expect(p.unplaced[0]?.reasons).toEqual({ UnfulfilledRole: 1 });
  });

  it('never gives a port reserved to web to an app of another role', () => {
    const db = appWith({ id: '/db/store', role: 'db' });
    const p = plan([agentWith([])], want(db, 1));
    expect(p.placements).toEqual([]);
    expect(p.unplaced[0]?.reasons).toEqual({ UnfulfilledRole: 1 });
  });

  it('counts InsufficientPorts when no pool holds enough ports, reserved ones included', () => {
    const p = plan([agentWith()], want(appWith({ id: '/other' }, [0, 0, 0, 0, 0, 0]), 1));
    expect(p.unplaced[0]?.reasons).toEqual({ InsufficientPorts: 1 });
  });

  it("keeps an app that accepts only ['web'] on reserved ports", () => {
    const only = appWith({ id: '/web/api', role: 'web', acceptedResourceRoles: ['web'] });
    const p = plan([agentWith()], want(only, 4));
    expect(portsOf(p, '/web/api')).toEqual([40000, 40001, 40002]);
    expect(p.unplaced[0]?.reasons).toEqual({ UnfulfilledRole: 1 });
  });

  it("keeps an app of role web that accepts only ['*'] off the reserved ports", () => {
    const starOnly = appWith({ id: '/web/api', role: 'web', acceptedResourceRoles: ['*'] });
    const p = plan([agentWith()], want(starOnly, 3));
    expect(portsOf(p, '/web/api')).toEqual([31000, 31001]);
    expect(p.unplaced[0]?.reasons).toEqual({ UnfulfilledRole: 1 });
  });

  it("gives a required host port inside web's range to web's app only", () => {
    const fixed = { requirePorts: true };
    const webFixed = appWith({ id: '/web/api', role: 'web', ...fixed }, [40001, 0]);
    const starFixed = appWith({ id: '/other', ...fixed }, [40001]);
    const dbFixed = appWith({ id: '/db/store', role: 'db', ...fixed }, [40001]);
    const p = plan([agentWith()], [...want(starFixed, 1), ...want(dbFixed, 1)]);
    expect(p.placements).toEqual([]);
    expect(p.unplaced.map((u) => u.reasons)).toEqual([
      { UnfulfilledRole: 1 },
      { UnfulfilledRole: 1 },
    ]);
    const q = plan([agentWith()], want(webFixed, 1));
    // The literal port, then the lowest free reserved port that is not it.
    expect(q.placements[0]?.ports).toEqual([40001, 40000]);
  });

  it('leaves an agent without reservations as before', () => {
    const p = plan([makeAgent()], want(web, 2));
    expect(portsOf(p, '/web/api')).toEqual([31000, 31001]);
  });

  it('never places a port twice nor a reserved port outside its role (random plans)', () => {
    const roles = ['*', 'web', 'db'] as const;
    const arbitraryApp = fc.record({
      role: fc.constantFrom(...roles),
      accepted: fc.constantFrom<string[] | undefined>(
        undefined,
        ['*'],
        ['web'],
        ['db'],
        ['*', 'web', 'db'],
      ),
      ports: fc.array(fc.constantFrom(0, 31000, 40001, 40100), { minLength: 1, maxLength: 3 }),
      requirePorts: fc.boolean(),
      count: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryApp, { minLength: 1, maxLength: 6 }), (specs) => {
        const reservations = [
          { role: 'web', cpus: 1, memMiB: 1024, diskMiB: 0, ports: WEB_PORTS },
          { role: 'db', cpus: 1, memMiB: 1024, diskMiB: 0, ports: [[40100, 40101]] as PortRange[] },
        ];
        const agents = ['a1', 'a2'].map((agentId) => ({
          ...agentWith([[31000, 31002]], agentId),
          reservations,
          freeReserved: reservations,
        }));
        const requests = specs.flatMap((spec, n) => {
          const role = spec.role;
          const app = appWith(
            {
              id: role === '*' ? `/app${n}` : `/${role}/app${n}`,
              role,
              requirePorts: spec.requirePorts,
              ...(spec.accepted ? { acceptedResourceRoles: spec.accepted } : {}),
            },
            spec.ports,
          );
          return want(app, spec.count);
        });
        const p = plan(agents, requests);
        const byApp = new Map(requests.map((r) => [r.app.id, r.app]));
        const seen = new Set<string>();
        for (const placement of p.placements) {
          const app = byApp.get(placement.appId);
          for (const port of placement.ports) {
            const key = `${placement.agentId}:${port}`;
            expect(seen.has(key)).toBe(false);
            seen.add(key);
            for (const r of reservations) {
              if (!isPortInRanges(port, r.ports)) continue;
              expect(app && roleOf(app)).toBe(r.role);
              expect(app?.acceptedResourceRoles ?? [r.role]).toContain(r.role);
            }
            if (isPortInRanges(port, [[31000, 31002]]))
              expect(app?.acceptedResourceRoles ?? ['*']).toContain('*');
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
