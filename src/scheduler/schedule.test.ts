// Named scenarios for schedule(): feasibility, resource consumption and ranking.
import { describe, expect, it } from 'vitest';
import { makeAgent, makeApp } from './fixtures.js';
import { schedule } from './schedule.js';
import type { PlacementRequest, SchedulingSnapshot } from './types.js';

function snapshot(overrides: Partial<SchedulingSnapshot>): SchedulingSnapshot {
  return { apps: [], instances: [], agents: [], requests: [], now: 0, seed: 'seed', ...overrides };
}

function requests(app = makeApp(), count = 1): PlacementRequest[] {
  return Array.from({ length: count }, (_, i) => ({ instanceId: `i-${i}`, app }));
}

describe('schedule', () => {
  it('places a request on the only feasible agent', () => {
    const plan = schedule(snapshot({ agents: [makeAgent()], requests: requests() }));
    expect(plan.placements).toMatchObject([{ instanceId: 'i-0', agentId: 'agent-1', ports: [] }]);
    expect(plan.unplaced).toEqual([]);
  });

  it('places nothing on an agent without the wasm capability', () => {
    const agents = [makeAgent({ capabilities: ['command'] })];
    const plan = schedule(snapshot({ agents, requests: requests() }));
    expect(plan.placements).toEqual([]);
    expect(plan.unplaced[0]?.agentsEvaluated).toBe(1);
  });

  it('consumes free cpus for the following requests of the same plan', () => {
    const agents = [makeAgent({ total: { cpus: 1, memMiB: 4096, diskMiB: 0, ports: [] } })];
    const plan = schedule(snapshot({ agents, requests: requests(makeApp({ cpus: 0.4 }), 3) }));
    expect(plan.placements).toHaveLength(2);
    expect(plan.unplaced[0]?.reasons).toEqual({ InsufficientCpus: 1 });
  });

  it('gives one distinct host port per port definition', () => {
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

  it('packs the fuller agent first', () => {
    const emptyAgent = makeAgent({ agentId: 'empty' });
    const busy = makeAgent({ agentId: 'busy' });
    busy.free = { ...busy.free, cpus: 1, memMiB: 1024 };
    const plan = schedule(snapshot({ agents: [emptyAgent, busy], requests: requests() }));
    expect(plan.placements[0]?.agentId).toBe('busy');
  });
});
