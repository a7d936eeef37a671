// checkHostAccess: host volumes and docker parameters go only where the operator allows them.
import { describe, expect, it } from 'vitest';
import type { Agent, AppDefinition } from '../../domain/index.js';
import { makeAgent, makeApp } from '../fixtures.js';
import { createPlacementState } from '../placement-state.js';
import { bindApp, createRequestContext } from '../request-context.js';
import { schedule } from '../schedule.js';
import { checkHostAccess } from './host-access.js';
import { checkersFor } from './index.js';

function setup(app: AppDefinition, agent: Agent) {
  const state = createPlacementState([agent], []);
  const ctx = createRequestContext(bindApp(app, state));
  return { slot: state.slots[0]!, ctx };
}

const containerAgent = (hostAccess?: Agent['hostAccess']) =>
  makeAgent({ capabilities: ['container'], ...(hostAccess ? { hostAccess } : {}) });

const withVolume = (hostPath: string, mode: 'RO' | 'RW') =>
  makeApp({
    container: {
      type: 'DOCKER',
      docker: { image: 'busybox' },
      volumes: [{ containerPath: '/data', hostPath, mode }],
    },
  });

describe('checkHostAccess', () => {
  it('refuses an absolute host volume on an agent that allows none, as UnfulfilledHostAccess', () => {
    const { slot, ctx } = setup(withVolume('/srv/data', 'RO'), containerAgent());
    expect(checkHostAccess(slot, ctx)).toBe(false);
    expect(ctx.reasons).toEqual({ UnfulfilledHostAccess: 1 });
  });

  it('accepts a volume under an allowed directory, read-only when the grant is', () => {
    const agent = containerAgent({
      volumes: [{ path: '/srv/data', isReadOnly: true }],
      dockerParameters: [],
    });
    expect(checkHostAccess(...pair(setup(withVolume('/srv/data/x', 'RO'), agent)))).toBe(true);
    expect(checkHostAccess(...pair(setup(withVolume('/srv/data/x', 'RW'), agent)))).toBe(false);
    expect(checkHostAccess(...pair(setup(withVolume('/srv/data/../../etc', 'RO'), agent)))).toBe(
      false,
    );
  });

  it('refuses docker parameters the agent does not pass on', () => {
    const app = makeApp({
      container: {
        type: 'DOCKER',
        docker: { image: 'busybox', parameters: [{ key: 'cap-add', value: 'ALL' }] },
        volumes: [],
      },
    });
    const allows = (keys: string[]) => containerAgent({ volumes: [], dockerParameters: keys });
    expect(checkHostAccess(...pair(setup(app, allows(['shm-size']))))).toBe(false);
    expect(checkHostAccess(...pair(setup(app, allows(['cap-add']))))).toBe(true);
  });

  it('is skipped for apps with only sandbox volumes', () => {
    const { ctx } = setup(withVolume('data', 'RW'), containerAgent());
    expect(ctx.hostAccessNeeds).toBeUndefined();
    expect(checkersFor(ctx)).not.toContain(checkHostAccess);
  });

  it('leaves the instance unplaced with the reason when no agent allows the volume', () => {
    const app = withVolume('/srv/data', 'RW');
    const plan = schedule({
      apps: [app],
      instances: [],
      agents: [containerAgent(), containerAgent({ volumes: [], dockerParameters: [] })].map(
        (agent, i) => ({ ...agent, agentId: `agent-${i}` }),
      ),
      requests: [{ instanceId: 'app.instance-1', app }],
      now: 0,
      seed: 'seed',
    });
    expect(plan.placements).toEqual([]);
    expect(plan.unplaced[0]?.reasons).toEqual({ UnfulfilledHostAccess: 2 });
  });
});

function pair(s: ReturnType<typeof setup>) {
  return [s.slot, s.ctx] as const;
}
