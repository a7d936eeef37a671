// Named scenarios for each feasibility checker, and for the stage as a whole.
import { describe, expect, it } from 'vitest';
import type { Agent, AppDefinition, Instance } from '../../domain/index.js';
import { makeAgent, makeApp, makeInstance } from '../fixtures.js';
import { createPlacementState } from '../placement-state.js';
import { bindApp, createRequestContext } from '../request-context.js';
import { checkAgentActive } from './agent-active.js';
import { checkCapability } from './capability.js';
import { checkConstraints } from './constraints.js';
import { checkCpus } from './cpus.js';
import { checkDisk } from './disk.js';
import { checkMemory } from './memory.js';
import { checkPorts } from './ports.js';
import { feasibilityCheckers, isFeasible } from './index.js';

function setup(app: AppDefinition, agent: Agent = makeAgent(), instances: Instance[] = []) {
  const state = createPlacementState([agent], instances);
  const ctx = createRequestContext(bindApp(app, state));
  return { slot: state.slots[0]!, ctx };
}

describe('checkAgentActive', () => {
  it('accepts an active agent', () => {
    const { slot, ctx } = setup(makeApp());
    expect(checkAgentActive(slot, ctx)).toBe(true);
    expect(ctx.reasons).toEqual({});
  });

  it('refuses an unreachable agent as AgentMaintenance', () => {
    const { slot, ctx } = setup(makeApp(), makeAgent({ state: 'unreachable' }));
    expect(checkAgentActive(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ AgentMaintenance: 1 });
  });
});

describe('checkCapability', () => {
  it('places nothing on an agent without the wasm capability', () => {
    const { slot, ctx } = setup(makeApp(), makeAgent({ capabilities: ['command', 'container'] }));
    expect(checkCapability(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ UnfulfilledRole: 1 });
  });

  it('sends a native command only to an agent that allows commands', () => {
    const app = makeApp({ cmd: 'sleep 10' });
    expect(checkCapability(...pair(setup(app)))).toBe(false);
    expect(
      checkCapability(...pair(setup(app, makeAgent({ capabilities: ['wasm', 'command'] })))),
    ).toBe(true);
  });

  it('sends a docker image only to a container agent', () => {
    const app = makeApp({ container: { type: 'DOCKER', docker: { image: 'nginx' }, volumes: [] } });
    expect(checkCapability(...pair(setup(app)))).toBe(false);
    expect(checkCapability(...pair(setup(app, makeAgent({ capabilities: ['container'] }))))).toBe(
      true,
    );
  });
});

describe('resource checkers', () => {
  it('refuses an agent with fewer free cpus than asked as InsufficientCpus', () => {
    const agent = makeAgent();
    agent.free.cpus = 0.05;
    const { slot, ctx } = setup(makeApp({ cpus: 0.1 }), agent);
    expect(checkCpus(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ InsufficientCpus: 1 });
  });

  it('accepts cpus that fill the agent exactly despite float rounding', () => {
    const agent = makeAgent();
    agent.free.cpus = 1 - 0.1 * 7; // 0.29999999999999993: three tenths left after seven
    const { slot, ctx } = setup(makeApp({ cpus: 0.3 }), agent);
    expect(checkCpus(slot, ctx)).toBe(true);
  });

  it('refuses an agent with less free memory than asked as InsufficientMemory', () => {
    const agent = makeAgent();
    agent.free.memMiB = 16;
    const { slot, ctx } = setup(makeApp({ mem: 32 }), agent);
    expect(checkMemory(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ InsufficientMemory: 1 });
  });

  it('refuses an agent with less free disk than asked as InsufficientDisk', () => {
    const agent = makeAgent();
    agent.free.diskMiB = 10;
    const { slot, ctx } = setup(makeApp({ disk: 64 }), agent);
    expect(checkDisk(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ InsufficientDisk: 1 });
  });
});

describe('checkPorts', () => {
  const tcp = (port: number) => ({ port, protocol: 'tcp' });

  it('needs no port when the app has no port definitions', () => {
    const agent = makeAgent();
    agent.free.ports = [];
    expect(checkPorts(...pair(setup(makeApp({ portDefinitions: undefined }), agent)))).toBe(true);
    expect(checkPorts(...pair(setup(makeApp({ portDefinitions: [] }), agent)))).toBe(true);
  });

  it('refuses an agent with fewer free ports than port definitions as InsufficientPorts', () => {
    const agent = makeAgent();
    agent.free.ports = [[31000, 31001]];
    const { slot, ctx } = setup(makeApp({ portDefinitions: [tcp(0), tcp(0), tcp(0)] }), agent);
    expect(checkPorts(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ InsufficientPorts: 1 });
  });

  it('with requirePorts needs the literal port to be free', () => {
    const app = makeApp({ requirePorts: true, portDefinitions: [tcp(8080)] });
    expect(checkPorts(...pair(setup(app)))).toBe(false);
    const agent = makeAgent();
    agent.free.ports = [[8000, 8100]];
    expect(checkPorts(...pair(setup(app, agent)))).toBe(true);
  });
});

describe('checkConstraints', () => {
  it('refuses an agent breaking a constraint as UnfulfilledConstraint', () => {
    const app = makeApp({ constraints: [['hostname', 'UNIQUE']] });
    const { slot, ctx } = setup(app, makeAgent(), [makeInstance()]);
    expect(checkConstraints(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ UnfulfilledConstraint: 1 });
  });

  it('accepts an agent when the app has no constraints', () => {
    expect(checkConstraints(...pair(setup(makeApp(), makeAgent(), [makeInstance()])))).toBe(true);
  });
});

describe('isFeasible', () => {
  it('runs the cheap checks before the constraints', () => {
    expect(feasibilityCheckers.at(0)).toBe(checkAgentActive);
    expect(feasibilityCheckers.at(-1)).toBe(checkConstraints);
  });

  it('counts exactly one reason, the first refusal, per agent', () => {
    const agent = makeAgent({ state: 'unreachable' });
    agent.free.cpus = 0;
    const { slot, ctx } = setup(makeApp({ constraints: [['hostname', 'IS', 'elsewhere']] }), agent);
    expect(isFeasible(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ AgentMaintenance: 1 });
  });
});

function pair(s: ReturnType<typeof setup>) {
  return [s.slot, s.ctx] as const;
}
