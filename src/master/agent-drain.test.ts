// The drained report: `agent_drained_event` once per drain, when nothing is left on the agent.
import { describe, expect, it } from 'vitest';
import type { Agent, Instance, MarathonEvent } from '../domain/index.js';
import { silentLogger } from '../lib/index.js';
import type { AgentBook } from './agent-book.js';
import { createAgentDrain } from './agent-drain.js';
import type { Applier } from './applier/index.js';

function setup() {
  const drains = new Map<string, string>();
  let instances: Partial<Instance>[] = [];
  let runningTaskIds: string[] = ['t-1'];
  const emitted: Omit<MarathonEvent, 'timestamp'>[] = [];
  let now = Date.parse('2026-01-02T03:04:05.678Z');
  // Only what the drain reads and writes of the applier: its drains and its instances.
  const applier = {
    drains: { since: (agentId: string) => drains.get(agentId) },
    instances: { all: () => instances },
    async update(build: () => { drains: { agentId: string; since: string | null }[] } | undefined) {
      for (const { agentId, since } of build()?.drains ?? []) {
        if (since === null) drains.delete(agentId);
        else drains.set(agentId, since);
      }
    },
  } as unknown as Applier;
  const agents = {
    get: (agentId: string) =>
      agentId === 'agent-1'
        ? ({ agentId, hostname: 'edge-1', runningTaskIds } as Agent)
        : undefined,
  } as unknown as AgentBook;
  const drain = createAgentDrain({
    applier,
    agents,
    clock: { now: () => now },
    logger: silentLogger(),
    events: { emit: async (event) => void emitted.push(event) },
    onChange: () => undefined,
  });
  return {
    drain,
    emitted,
    place: (list: Partial<Instance>[]) => (instances = list),
    report: (ids: string[]) => (runningTaskIds = ids),
    later: () => (now += 1000),
  };
}

describe('agent drain', () => {
  it('reports drained once, when neither the master nor the agent has a task there', async () => {
    const t = setup();
    t.place([{ agentId: 'agent-1', condition: 'Running' }]);
    const { since } = await t.drain.drain('agent-1');
    t.drain.observe('agent-1');
    expect(t.emitted).toEqual([]);
    // The master's instance is gone, the agent still lists a task: still draining.
    t.place([{ agentId: 'agent-1', condition: 'Killed' }]);
    t.drain.observe('agent-1');
    expect(t.drain.stateOf('agent-1')?.state).toBe('draining');
    expect(t.emitted).toEqual([]);
    t.report([]);
    t.drain.observe('agent-1');
    t.drain.observe('agent-1');
    expect(t.drain.stateOf('agent-1')).toEqual({ state: 'drained', since });
    expect(t.emitted).toEqual([
      { eventType: 'agent_drained_event', agentId: 'agent-1', hostname: 'edge-1', since },
    ]);
  });

  it('reports a later drain of the same agent again, and nothing for an agent in service', async () => {
    const t = setup();
    t.report([]);
    t.place([]);
    t.drain.observe('agent-1');
    expect(t.emitted).toEqual([]);
    // Empty already: drained at once.
    await t.drain.drain('agent-1');
    expect(t.emitted).toHaveLength(1);
    await t.drain.undrain('agent-1');
    t.drain.observe('agent-1');
    t.later();
    const again = await t.drain.drain('agent-1');
    expect(t.emitted).toHaveLength(2);
    expect(t.emitted[1]).toMatchObject({ since: again.since });
  });
});
