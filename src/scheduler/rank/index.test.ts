// Named scenarios for the rankers and the combined score.
import { describe, expect, it } from 'vitest';
import type { Agent, AppDefinition, Instance } from '../../domain/index.js';
import { makeAgent, makeApp, makeInstance } from '../fixtures.js';
import { createPlacementState } from '../placement-state.js';
import { bindApp, createRequestContext } from '../request-context.js';
import { rankAntiAffinity } from './anti-affinity.js';
import { rankBinpack } from './binpack.js';
import { rankSpread } from './spread.js';
import { scoreAgent } from './index.js';

function setup(app: AppDefinition, agent: Agent, instances: Instance[] = []) {
  const state = createPlacementState([agent], instances);
  return { slot: state.slots[0]!, ctx: createRequestContext(bindApp(app, state)) };
}

function withFree(cpus: number, memMiB: number): Agent {
  const agent = makeAgent({ total: { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] } });
  agent.free = { ...agent.free, cpus, memMiB };
  return agent;
}

describe('rankBinpack', () => {
  it('scores 1 for a placement that fills the agent and 0 for one that leaves it empty', () => {
    const app = makeApp({ cpus: 1, mem: 1024 });
    const full = setup(app, withFree(1, 1024));
    expect(rankBinpack(full.slot, full.ctx)).toBeCloseTo(1);
    const tiny = setup(makeApp({ cpus: 0, mem: 0 }), withFree(4, 4096));
    expect(rankBinpack(tiny.slot, tiny.ctx)).toBeCloseTo(0);
  });

  it('scores a fuller agent higher', () => {
    const app = makeApp({ cpus: 0.5, mem: 256 });
    const busy = setup(app, withFree(1, 1024));
    const idle = setup(app, withFree(4, 4096));
    expect(rankBinpack(busy.slot, busy.ctx)!).toBeGreaterThan(rankBinpack(idle.slot, idle.ctx)!);
  });
});

describe('rankSpread', () => {
  it('scores an emptier agent higher', () => {
    const app = makeApp({ cpus: 0.5, mem: 256 });
    const busy = setup(app, withFree(1, 1024));
    const idle = setup(app, withFree(4, 4096));
    expect(rankSpread(idle.slot, idle.ctx)!).toBeGreaterThan(rankSpread(busy.slot, busy.ctx)!);
  });
});

describe('rankAntiAffinity', () => {
  it('abstains on an agent without instances of the app', () => {
    const { slot, ctx } = setup(makeApp(), makeAgent());
    expect(rankAntiAffinity(slot, ctx)).toBeUndefined();
  });

  it('penalizes an agent in proportion to the instances of the app already there', () => {
    const app = makeApp({ instances: 4 });
    const one = setup(app, makeAgent(), [makeInstance()]);
    const two = setup(app, makeAgent(), [
      makeInstance(),
      makeInstance({ instanceId: 'app.instance-2' }),
    ]);
    expect(rankAntiAffinity(one.slot, one.ctx)).toBeCloseTo(-0.5);
    expect(rankAntiAffinity(two.slot, two.ctx)).toBeCloseTo(-0.75);
  });
});

describe('scoreAgent', () => {
  it('averages the components that do not abstain', () => {
    const app = makeApp({ instances: 2 });
    const { slot, ctx } = setup(app, makeAgent(), [makeInstance()]);
    const expected = (rankBinpack(slot, ctx)! + rankAntiAffinity(slot, ctx)!) / 2;
    expect(scoreAgent(slot, ctx, 'binpack')).toBeCloseTo(expected);
  });
});
