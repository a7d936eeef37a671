// Property tests for schedule(): every plan is replayed against a plain oracle of Marathon's
// rules (resources, ports, capability, constraints) written independently of the pipeline.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Agent, AppDefinition, Constraint, Instance, TaskKind } from '../domain/index.js';
import { taskKindOf } from '../domain/index.js';
import { makeAgent, makeApp, makeInstance } from './fixtures.js';
import { reconcile } from './reconcile.js';
import { schedule } from './schedule.js';
import type { Placement, PlacementRequest, Plan, SchedulingSnapshot } from './types.js';

const EPS = 1e-9;

const CONSTRAINTS: Constraint[] = [
  ['hostname', 'UNIQUE'],
  ['@hostname', 'MAX_PER', '2'],
  ['@zone', 'GROUP_BY'],
  ['@zone', 'GROUP_BY', '3'],
  ['rack', 'UNIQUE'],
  ['rack', 'CLUSTER'],
  ['rack', 'CLUSTER', 'r1'],
  ['@zone', 'MAX_PER', '3'],
  ['rack', 'LIKE', 'r[01]'],
  ['rack', 'UNLIKE', 'r1'],
  ['@region', 'IS', 'eu'],
  ['hostname', 'LIKE', 'a[0-4]'],
];

const arbitraryAgent = (i: number) =>
  fc
    .record({
      cpus: fc.constantFrom(0, 0.5, 1, 2),
      memMiB: fc.constantFrom(0, 64, 256, 1024),
      diskMiB: fc.constantFrom(0, 100, 1000),
      portCount: fc.nat(4),
      unreachable: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      capabilities: fc.subarray<TaskKind>(['wasm', 'command', 'container'], { minLength: 0 }),
      zone: fc.constantFrom('z0', 'z1', 'z2', undefined),
      rack: fc.constantFrom('r0', 'r1', 'r2', undefined),
      region: fc.constantFrom('eu', 'us', undefined),
    })
    .map((s): Agent => {
      const attributes: Record<string, string> = {};
      if (s.zone) attributes.zone = s.zone;
      if (s.rack) attributes.rack = s.rack;
      if (s.region) attributes.region = s.region;
      const total = {
        cpus: s.cpus,
        memMiB: s.memMiB,
        diskMiB: s.diskMiB,
        ports: s.portCount === 0 ? [] : [[31000, 31000 + s.portCount - 1] as [number, number]],
      };
      return makeAgent({
        agentId: `a${i}`,
        hostname: `a${i}`,
        attributes,
        capabilities: s.capabilities,
        total,
        state: s.unreachable ? 'unreachable' : 'active',
      });
    });

const arbitraryApp = (i: number) =>
  fc
    .record({
      cpus: fc.constantFrom(0.1, 0.25, 0.5),
      mem: fc.constantFrom(16, 32, 128),
      disk: fc.constantFrom(0, 10, 100),
      ports: fc.nat(2),
      requirePorts: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      kind: fc.constantFrom('wasm', 'wasm', 'command'),
      constraints: fc.subarray(CONSTRAINTS, { maxLength: 2 }),
      instances: fc.nat(6),
    })
    .map((s): AppDefinition =>
      makeApp({
        id: `/app${i}`,
        cmd: s.kind === 'wasm' ? 'app.wasm' : 'sleep 100',
        cpus: s.cpus,
        mem: s.mem,
        disk: s.disk,
        instances: s.instances,
        requirePorts: s.requirePorts,
        portDefinitions: Array.from({ length: s.ports }, (_, p) => ({
          port: s.requirePorts ? 31000 + p : 0,
          protocol: 'tcp',
        })),
        constraints: s.constraints,
      }),
    );

/** A cluster, some running instances, and requests in an arbitrary priority order. */
const arbitrarySnapshot = fc
  .record({ agentCount: fc.integer({ min: 1, max: 8 }), appCount: fc.integer({ min: 1, max: 3 }) })
  .chain(({ agentCount, appCount }) =>
    fc.record({
      agents: fc.tuple(...Array.from({ length: agentCount }, (_, i) => arbitraryAgent(i))),
      apps: fc.tuple(...Array.from({ length: appCount }, (_, i) => arbitraryApp(i))),
      running: fc.array(fc.record({ app: fc.nat(appCount - 1), agent: fc.nat(agentCount - 1) }), {
        maxLength: 4,
      }),
      requests: fc.array(fc.nat(appCount - 1), { maxLength: 14 }),
      seed: fc.string({ maxLength: 6 }),
      algorithm: fc.constantFrom('binpack' as const, 'spread' as const),
    }),
  )
  .map((w): SchedulingSnapshot => {
    const instances = w.running.map((r, n) =>
      makeInstance({
        instanceId: `running-${n}`,
        appId: `/app${r.app}`,
        agentId: `a${r.agent}`,
        host: `a${r.agent}`,
      }),
    );
    const requests: PlacementRequest[] = w.requests.map((a, n) => ({
      instanceId: `new-${n}`,
      app: w.apps[a] as AppDefinition,
    }));
    return {
      apps: w.apps,
      instances,
      agents: w.agents,
      requests,
      now: 0,
      seed: w.seed,
      algorithm: w.algorithm,
    };
  });

// ---------------------------------------------------------------------------------------------
// The oracle: Marathon's rules written plainly, over lists, with no shared code.

function fieldOf(agent: Agent, field: string): string | undefined {
  if (field === 'hostname' || field === '@hostname') return agent.hostname;
  if (field === '@region') return agent.attributes.region;
  if (field === '@zone') return agent.attributes.zone;
  return agent.attributes[field];
}

function oracleConstraintMet(constraint: Constraint, agent: Agent, placedOn: Agent[]): boolean {
  const [field, op, value] = constraint;
  const mine = fieldOf(agent, field);
  if (mine === undefined) return op === 'UNLIKE';
  const theirs = placedOn.map((a) => fieldOf(a, field));
  const here = theirs.filter((v) => v === mine).length;
  switch (op) {
    case 'UNIQUE':
      return here === 0;
    case 'CLUSTER':
      return (value === undefined || value === mine) && here === theirs.length;
    case 'MAX_PER':
      return here < Number(value);
    case 'LIKE':
      return new RegExp(`^(?:${value})$`).test(mine);
    case 'UNLIKE':
      return !new RegExp(`^(?:${value})$`).test(mine);
    case 'IS':
      return mine === value;
    case 'GROUP_BY': {
      if (here === 0) return true;
      const groups = new Map<string | undefined, number>();
      for (const v of theirs) groups.set(v, (groups.get(v) ?? 0) + 1);
      return groups.size >= Number(value ?? 0) && here === Math.min(...groups.values());
    }
    default:
      throw new Error(`oracle does not know ${op}`);
  }
}

interface OracleAgent {
  agent: Agent;
  cpus: number;
  mem: number;
  disk: number;
  usedPorts: Set<number>;
}

function freePorts(o: OracleAgent): number[] {
  const out: number[] = [];
  for (const [b, e] of o.agent.free.ports)
    for (let p = b; p <= e; p++) if (!o.usedPorts.has(p)) out.push(p);
  return out;
}

function oracleFeasible(o: OracleAgent, app: AppDefinition, placedOn: Agent[]): boolean {
  if (o.agent.state !== 'active') return false;
  if (!o.agent.capabilities.includes(taskKindOf(app))) return false;
  if (app.cpus > o.cpus + EPS || app.mem > o.mem + EPS || app.disk > o.disk + EPS) return false;
  const definitions = app.portDefinitions ?? [];
  const free = freePorts(o);
  if (app.requirePorts) {
    for (const d of definitions) if (d.port !== 0 && !free.includes(d.port)) return false;
  }
  if (free.length < definitions.length) return false;
  return app.constraints.every((c) => oracleConstraintMet(c, o.agent, placedOn));
}

/** Replays the plan in request order against the oracle; fails the test on any breach. */
function replay(snapshot: SchedulingSnapshot, plan: Plan): void {
  const state = new Map(
    snapshot.agents.map((agent): [string, OracleAgent] => [
      agent.agentId,
      {
        agent,
        cpus: agent.free.cpus,
        mem: agent.free.memMiB,
        disk: agent.free.diskMiB,
        usedPorts: new Set(),
      },
    ]),
  );
  const placedOn = new Map<string, Agent[]>();
  for (const i of snapshot.instances) {
    const agent = i.agentId === undefined ? undefined : state.get(i.agentId)?.agent;
    if (agent) placedOn.set(i.appId, [...(placedOn.get(i.appId) ?? []), agent]);
  }
  const placements = new Map(plan.placements.map((p) => [p.instanceId, p]));
  const unplaced = new Set(plan.unplaced.map((u) => u.instanceId));
  for (const request of snapshot.requests) {
    const { app } = request;
    const before = placedOn.get(app.id) ?? [];
    const placement = placements.get(request.instanceId);
    if (!placement) {
      expect(unplaced.has(request.instanceId)).toBe(true);
      // Nothing was feasible when this request's turn came.
      for (const o of state.values()) expect(oracleFeasible(o, app, before)).toBe(false);
      continue;
    }
    const o = state.get(placement.agentId);
    expect(o).toBeDefined();
    expect(oracleFeasible(o!, app, before)).toBe(true);
    const definitions = app.portDefinitions ?? [];
    expect(placement.ports).toHaveLength(definitions.length);
    const free = freePorts(o!);
    for (const port of placement.ports) expect(free).toContain(port);
    expect(new Set(placement.ports).size).toBe(placement.ports.length);
    if (app.requirePorts) {
      definitions.forEach((d, k) => d.port !== 0 && expect(placement.ports[k]).toBe(d.port));
    }
    o!.cpus -= app.cpus;
    o!.mem -= app.mem;
    o!.disk -= app.disk;
    for (const port of placement.ports) o!.usedPorts.add(port);
    placedOn.set(app.id, [...before, o!.agent]);
  }
}

/** The snapshot after the plan is applied: new instances running, agents' free reduced. */
function applyPlan(snapshot: SchedulingSnapshot, plan: Plan): SchedulingSnapshot {
  const byId = new Map(snapshot.requests.map((r) => [r.instanceId, r.app]));
  const agents = snapshot.agents.map((agent) => {
    const mine = plan.placements.filter((p) => p.agentId === agent.agentId);
    if (mine.length === 0) return agent;
    const used = mine.map((p) => byId.get(p.instanceId) as AppDefinition);
    const taken = new Set(mine.flatMap((p) => p.ports));
    const ports = agent.free.ports.flatMap(([b, e]) => {
      const out: [number, number][] = [];
      for (let p = b; p <= e; p++) if (!taken.has(p)) out.push([p, p]);
      return out;
    });
    return {
      ...agent,
      free: {
        cpus: agent.free.cpus - used.reduce((s, a) => s + a.cpus, 0),
        memMiB: agent.free.memMiB - used.reduce((s, a) => s + a.mem, 0),
        diskMiB: agent.free.diskMiB - used.reduce((s, a) => s + a.disk, 0),
        ports,
      },
    };
  });
  const instances: Instance[] = [
    ...snapshot.instances,
    ...plan.placements.map((p: Placement) =>
      makeInstance({
        instanceId: p.instanceId,
        appId: p.appId,
        agentId: p.agentId,
        host: p.hostname,
        ports: p.ports,
      }),
    ),
  ];
  return { ...snapshot, agents, instances, requests: [] };
}

describe('schedule properties', () => {
  it('places only on agents feasible at that point, and leaves unplaced only what fits nowhere', () => {
    fc.assert(fc.property(arbitrarySnapshot, (snapshot) => replay(snapshot, schedule(snapshot))));
  });

  it('never exceeds an agent’s free cpus, memory, disk or ports', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snapshot) => {
        const plan = schedule(snapshot);
        const app = new Map(snapshot.requests.map((r) => [r.instanceId, r.app]));
        for (const agent of snapshot.agents) {
          const mine = plan.placements.filter((p) => p.agentId === agent.agentId);
          const apps = mine.map((p) => app.get(p.instanceId)!);
          expect(apps.reduce((s, a) => s + a.cpus, 0)).toBeLessThanOrEqual(agent.free.cpus + EPS);
          expect(apps.reduce((s, a) => s + a.mem, 0)).toBeLessThanOrEqual(agent.free.memMiB + EPS);
          expect(apps.reduce((s, a) => s + a.disk, 0)).toBeLessThanOrEqual(
            agent.free.diskMiB + EPS,
          );
          const ports = mine.flatMap((p) => p.ports);
          expect(new Set(ports).size).toBe(ports.length);
        }
      }),
    );
  });

  it('answers every request exactly once and never places more than requested', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snapshot) => {
        const plan = schedule(snapshot);
        const answered = [...plan.placements, ...plan.unplaced].map((x) => x.instanceId).sort();
        expect(answered).toEqual(snapshot.requests.map((r) => r.instanceId).sort());
      }),
    );
  });

  it('honours every constraint in the resulting placement', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snapshot) => {
        const after = applyPlan(snapshot, schedule(snapshot));
        const agentOf = new Map(after.agents.map((a) => [a.agentId, a]));
        for (const app of snapshot.apps) {
          const on = after.instances
            .filter((i) => i.appId === app.id)
            .map((i) => agentOf.get(i.agentId!)!);
          const isNew = new Set(
            snapshot.requests.filter((r) => r.app === app).map((r) => r.instanceId),
          );
          const fresh = after.instances
            .filter((i) => isNew.has(i.instanceId))
            .map((i) => agentOf.get(i.agentId!)!);
          for (const [field, op, value] of app.constraints) {
            const values = on.map((a) => fieldOf(a, field));
            const count = (v: string | undefined) => values.filter((x) => x === v).length;
            if (op === 'UNIQUE' && fresh.length > 0) {
              // Every new instance sits on a value no other instance has.
              for (const a of fresh) expect(count(fieldOf(a, field))).toBe(1);
            }
            if (op === 'MAX_PER') {
              for (const a of fresh)
                expect(count(fieldOf(a, field))).toBeLessThanOrEqual(Number(value));
            }
            for (const a of fresh) {
              const v = fieldOf(a, field);
              if (op === 'LIKE') expect(new RegExp(`^(?:${value})$`).test(v ?? '')).toBe(true);
              if (op === 'UNLIKE' && v !== undefined)
                expect(new RegExp(`^(?:${value})$`).test(v)).toBe(false);
              if (op === 'IS') expect(v).toBe(value);
              if (op === 'CLUSTER' && value !== undefined) expect(v).toBe(value);
            }
          }
        }
      }),
    );
  });

  it('gives the same plan for the same snapshot and seed', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snapshot) => {
        expect(schedule(structuredClone(snapshot))).toEqual(schedule(snapshot));
      }),
    );
  });

  it('converges: after applying the plan, reconciling and scheduling again places nothing more', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snapshot) => {
        // Round 1: reconcile every app from the running instances, schedule, apply.
        const round = (s: SchedulingSnapshot): SchedulingSnapshot => {
          const requests = s.apps.flatMap((app) => {
            const { place } = reconcile({
              app,
              instances: s.instances.filter((i) => i.appId === app.id),
              now: 0,
            });
            return Array.from({ length: place }, (_, n) => ({
              instanceId: `${app.id}-${s.instances.length}-${n}`,
              app,
            }));
          });
          return { ...s, requests };
        };
        const first = round({ ...snapshot, requests: [] });
        const plan1 = schedule(first);
        const applied = applyPlan(first, plan1);
        for (const app of snapshot.apps) {
          const count = applied.instances.filter((i) => i.appId === app.id).length;
          const before = snapshot.instances.filter((i) => i.appId === app.id).length;
          expect(count).toBeLessThanOrEqual(Math.max(app.instances, before));
        }
        const second = round(applied);
        expect(second.requests).toHaveLength(plan1.unplaced.length);
        expect(schedule(second).placements).toEqual([]);
      }),
    );
  });
});
