// Named scenarios for schedule(): the whole pipeline over a small cluster.
import { describe, expect, it } from 'vitest';
import type { Agent, AppDefinition } from '../domain/index.js';
import { makeAgent, makeApp, makeInstance } from './fixtures.js';
import { schedule } from './schedule.js';
import type { PlacementRequest, SchedulingSnapshot } from './types.js';

function snapshot(overrides: Partial<SchedulingSnapshot>): SchedulingSnapshot {
  return { apps: [], instances: [], agents: [], requests: [], now: 0, seed: 'seed', ...overrides };
}

function requests(app: AppDefinition = makeApp(), count = 1): PlacementRequest[] {
  return Array.from({ length: count }, (_, i) => ({ instanceId: `i-${i}`, app }));
}

/** Agents `a0…a(n-1)`, with attributes from `attributes(i)`. */
function agents(
  n: number,
  attributes: (i: number) => Record<string, string> = () => ({}),
): Agent[] {
  return Array.from({ length: n }, (_, i) =>
    makeAgent({ agentId: `a${i}`, attributes: attributes(i) }),
  );
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

describe('schedule', () => {
  it('places a request on the only feasible agent', () => {
    const plan = schedule(snapshot({ agents: [makeAgent()], requests: requests() }));
    expect(plan.placements).toEqual([
      {
        instanceId: 'i-0',
        appId: '/app',
        agentId: 'agent-1',
        hostname: 'agent-1.example',
        ports: [],
        role: '*',
      },
    ]);
    expect(plan.unplaced).toEqual([]);
  });

  it('places nothing on an agent without the wasm capability', () => {
    const plan = schedule(
      snapshot({ agents: [makeAgent({ capabilities: ['command'] })], requests: requests() }),
    );
    expect(plan.placements).toEqual([]);
    expect(plan.unplaced).toEqual([
      { instanceId: 'i-0', appId: '/app', reasons: { UnfulfilledRole: 1 }, agentsEvaluated: 1 },
    ]);
  });

  it('consumes free cpus for the following requests of the same plan', () => {
    const agent = makeAgent({ total: { cpus: 1, memMiB: 4096, diskMiB: 0, ports: [] } });
    const plan = schedule(
      snapshot({ agents: [agent], requests: requests(makeApp({ cpus: 0.4 }), 3) }),
    );
    expect(plan.placements).toHaveLength(2);
    expect(plan.unplaced.map((u) => u.reasons)).toEqual([{ InsufficientCpus: 1 }]);
  });

  it('reports every agent refusal by reason for an unplaced request', () => {
    const list = [
      makeAgent({ agentId: 'a', state: 'unreachable' }),
      makeAgent({ agentId: 'b', capabilities: [] }),
      makeAgent({ agentId: 'c', total: { cpus: 0, memMiB: 0, diskMiB: 0, ports: [] } }),
    ];
    const plan = schedule(snapshot({ agents: list, requests: requests() }));
    expect(plan.unplaced[0]).toMatchObject({
      reasons: { AgentMaintenance: 1, UnfulfilledRole: 1, InsufficientCpus: 1 },
      agentsEvaluated: 3,
    });
  });

  it('gives one distinct host port per port definition and consumes them', () => {
    const app = makeApp({
      portDefinitions: [
        { port: 0, protocol: 'tcp' },
        { port: 0, protocol: 'tcp' },
      ],
    });
    const plan = schedule(snapshot({ agents: [makeAgent()], requests: requests(app, 2) }));
    expect(plan.placements.map((p) => p.ports)).toEqual([
      [31000, 31001],
      [31002, 31003],
    ]);
  });

  it('uses the literal ports with requirePorts, so a second instance cannot share the agent', () => {
    const agent = makeAgent();
    agent.free.ports = [[8000, 8100]];
    const app = makeApp({
      requirePorts: true,
      portDefinitions: [
        { port: 8080, protocol: 'tcp' },
        { port: 0, protocol: 'tcp' },
      ],
    });
    const plan = schedule(snapshot({ agents: [agent], requests: requests(app, 2) }));
    expect(plan.placements.map((p) => p.ports)).toEqual([[8080, 8000]]);
    expect(plan.unplaced[0]?.reasons).toEqual({ InsufficientPorts: 1 });
  });

  it('packs the fuller agent first with binpack', () => {
    const busy = makeAgent({ agentId: 'busy' });
    busy.free = { ...busy.free, cpus: 1, memMiB: 1024 };
    const plan = schedule(
      snapshot({ agents: [makeAgent({ agentId: 'empty' }), busy], requests: requests() }),
    );
    expect(plan.placements[0]?.agentId).toBe('busy');
  });

  it('prefers the emptier agent with spread', () => {
    const busy = makeAgent({ agentId: 'busy' });
    busy.free = { ...busy.free, cpus: 1, memMiB: 1024 };
    const plan = schedule(
      snapshot({
        agents: [makeAgent({ agentId: 'empty' }), busy],
        requests: requests(),
        algorithm: 'spread',
      }),
    );
    expect(plan.placements[0]?.agentId).toBe('empty');
  });

  it('gives the same plan for the same snapshot and seed', () => {
    const input = snapshot({ agents: agents(20), requests: requests(makeApp(), 30) });
    expect(schedule(input)).toEqual(schedule(structuredClone(input)));
  });

  it('breaks ties differently for a different seed', () => {
    const input = snapshot({ agents: agents(20), requests: requests(makeApp(), 1) });
    const chosen = new Set(
      ['s1', 's2', 's3', 's4', 's5', 's6'].map(
        (seed) => schedule({ ...input, seed }).placements[0]?.agentId,
      ),
    );
    expect(chosen.size).toBeGreaterThan(1);
  });

  it('scores only max(2, log2 n) feasible agents by default, so the fullest agent may be missed', () => {
    const list = agents(16);
    const fullest = list[15]!;
    fullest.free = { ...fullest.free, cpus: 0.5, memMiB: 256 };
    const chosen = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'].map(
      (seed) =>
        schedule(snapshot({ agents: list, requests: requests(), seed })).placements[0]?.agentId,
    );
    expect(chosen.some((agentId) => agentId !== 'a15')).toBe(true);
  });

  it('scores every feasible agent with candidateLimit Infinity, finding the fullest', () => {
    const list = agents(16);
    const fullest = list[15]!;
    fullest.free = { ...fullest.free, cpus: 0.5, memMiB: 256 };
    for (const seed of ['s1', 's2', 's3']) {
      const plan = schedule(
        snapshot({ agents: list, requests: requests(), seed, candidateLimit: Infinity }),
      );
      expect(plan.placements[0]?.agentId).toBe('a15');
    }
  });

  it('does not change the snapshot', () => {
    const input = snapshot({ agents: agents(3), requests: requests(makeApp(), 5) });
    const copy = structuredClone(input);
    schedule(input);
    expect(input).toEqual(copy);
  });
});

describe('schedule with constraints', () => {
  it('UNIQUE hostname puts each instance on its own agent, counting earlier placements of the plan', () => {
    const app = makeApp({ constraints: [['hostname', 'UNIQUE']] });
    const plan = schedule(snapshot({ agents: agents(3), requests: requests(app, 4) }));
    expect(new Set(plan.placements.map((p) => p.agentId)).size).toBe(3);
    expect(plan.unplaced[0]?.reasons).toEqual({ UnfulfilledConstraint: 3 });
  });

  it('UNIQUE counts the instances already running', () => {
    const app = makeApp({ constraints: [['hostname', 'UNIQUE']] });
    const running = makeInstance({ agentId: 'a0', host: 'a0.example' });
    const plan = schedule(
      snapshot({ agents: agents(2), instances: [running], requests: requests(app, 2) }),
    );
    expect(plan.placements.map((p) => p.agentId)).toEqual(['a1']);
  });

  it('UNIQUE on an attribute allows one instance per value', () => {
    const app = makeApp({ constraints: [['rack', 'UNIQUE']] });
    const list = agents(4, (i) => ({ rack: `r${i % 2}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 3) }));
    expect(plan.placements).toHaveLength(2);
  });

  it('CLUSTER with a value places only on agents with that value', () => {
    const app = makeApp({ constraints: [['rack', 'CLUSTER', 'r1']] });
    const list = agents(4, (i) => ({ rack: `r${i % 2}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 6) }));
    expect(plan.placements.every((p) => p.agentId === 'a1' || p.agentId === 'a3')).toBe(true);
    expect(plan.placements).toHaveLength(6);
  });

  it('CLUSTER without a value keeps every instance on the value of the first', () => {
    const app = makeApp({ constraints: [['@zone', 'CLUSTER']] });
    const list = agents(6, (i) => ({ zone: `z${i % 3}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 5) }));
    const zones = new Set(
      plan.placements.map((p) => list.find((a) => a.agentId === p.agentId)?.attributes.zone),
    );
    expect(zones.size).toBe(1);
    expect(plan.placements).toHaveLength(5);
  });

  it('GROUP_BY with a count spreads evenly across that many zones', () => {
    const app = makeApp({ constraints: [['@zone', 'GROUP_BY', '3']] });
    const list = agents(9, (i) => ({ zone: `z${i % 3}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 9) }));
    const zoneOf = (agentId: string) =>
      list.find((a) => a.agentId === agentId)?.attributes.zone ?? '';
    expect(countBy(plan.placements, (p) => zoneOf(p.agentId))).toEqual({ z0: 3, z1: 3, z2: 3 });
  });

  it('GROUP_BY without a count never lets a zone in use run two ahead of another', () => {
    const app = makeApp({ constraints: [['@zone', 'GROUP_BY']] });
    const list = agents(9, (i) => ({ zone: `z${i % 3}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 8) }));
    const zoneOf = (agentId: string) =>
      list.find((a) => a.agentId === agentId)?.attributes.zone ?? '';
    const sizes = Object.values(countBy(plan.placements, (p) => zoneOf(p.agentId)));
    expect(plan.placements).toHaveLength(8);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('MAX_PER caps the instances per region', () => {
    const app = makeApp({ constraints: [['@region', 'MAX_PER', '2']] });
    const list = agents(4, (i) => ({ region: i < 2 ? 'eu' : 'us' }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 6) }));
    expect(plan.placements).toHaveLength(4);
    expect(plan.unplaced).toHaveLength(2);
  });

  it('LIKE places only where the attribute fully matches', () => {
    const app = makeApp({ constraints: [['rack', 'LIKE', 'r[12]']] });
    const list = agents(4, (i): Record<string, string> => (i === 0 ? {} : { rack: `r${i}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 8) }));
    expect(new Set(plan.placements.map((p) => p.agentId))).toEqual(new Set(['a1', 'a2']));
  });

  it('UNLIKE also places on agents lacking the attribute', () => {
    const app = makeApp({ constraints: [['rack', 'UNLIKE', 'r[12]']] });
    const list = agents(4, (i): Record<string, string> => (i === 0 ? {} : { rack: `r${i}` }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app, 8) }));
    expect(new Set(plan.placements.map((p) => p.agentId))).toEqual(new Set(['a0', 'a3']));
  });

  it('IS on hostname pins the app to one agent', () => {
    const app = makeApp({ constraints: [['hostname', 'IS', 'a2.example']] });
    const plan = schedule(snapshot({ agents: agents(4), requests: requests(app, 2) }));
    expect(plan.placements.map((p) => p.agentId)).toEqual(['a2', 'a2']);
  });

  it('finds a lone feasible agent among many for a constrained app', () => {
    const app = makeApp({ constraints: [['rack', 'IS', 'rare']] });
    const list = agents(64, (i) => ({ rack: i === 40 ? 'rare' : 'common' }));
    const plan = schedule(snapshot({ agents: list, requests: requests(app) }));
    expect(plan.placements[0]?.agentId).toBe('a40');
  });
});
