// planPass: one pass decided from a snapshot. Same snapshot and seed → same intents (replay);
// a new instance is created placed in one write; deployment steps hold and release apps.
import { describe, expect, it } from 'vitest';
import type { AppDefinition, Deployment, Instance } from '../../domain/index.js';
import { makeAgent, makeApp, makeInstance } from '../../scheduler/fixtures.js';
import { planPass } from './plan-pass.js';
import type { PassSnapshot } from './snapshot.js';

const NOW = Date.parse('2026-01-03T00:00:00.000Z');
const V = '2026-01-01T00:00:00.000Z';

function snapshot(parts: {
  apps: AppDefinition[];
  instances?: Instance[];
  deployments?: Deployment[];
  seed?: string;
  agents?: number;
}): PassSnapshot {
  const agents = Array.from({ length: parts.agents ?? 3 }, (_, n) =>
    makeAgent({ agentId: `agent-${n}`, attributes: { rack: `r${n % 2}` } }),
  );
  return {
    now: NOW,
    seed: parts.seed ?? 'seed-1',
    scope: 'all',
    apps: new Map(parts.apps.map((app) => [app.id, app])),
    instances: (parts.instances ?? []).map((value, n) => ({ value, revision: n + 1 })),
    deployments: (parts.deployments ?? []).map((value) => ({ value, revision: 7 })),
    agents,
    available: agents,
    backoff: new Map(),
  };
}

/** A deployment scaling /base, then /top (which depends on it), at its first step. */
function baseThenTop(id: string) {
  const base = makeApp({ id: '/base', instances: 1 });
  const top = makeApp({ id: '/top', instances: 1, dependencies: ['/base'] });
  const deployment: Deployment = {
    id,
    version: V,
    affectedApps: ['/base', '/top'],
    steps: [
      { actions: [{ action: 'ScaleApplication', app: '/base' }] },
      { actions: [{ action: 'ScaleApplication', app: '/top' }] },
    ],
    currentStep: 1,
    original: [],
    target: [base, top],
    createdAt: V,
  };
  return { base, top, deployment };
}

const placedOf = (plan: ReturnType<typeof planPass>) =>
  plan.placement.placements.map((p) => [p.appId, p.agentId, p.ports.join(',')]);

describe('planPass', () => {
  it('replays a pass from its seed and snapshot to the same placements and intents', () => {
    const apps = [
      makeApp({ id: '/web', instances: 5, cpus: 0.5, portDefinitions: [] }),
      makeApp({ id: '/db', instances: 3, cpus: 1, constraints: [['rack', 'GROUP_BY']] }),
      makeApp({ id: '/batch', instances: 4, mem: 512 }),
    ];
    const waiting = makeInstance({
      instanceId: 'web.instance-w',
      appId: '/web',
      condition: 'Scheduled',
      agentId: undefined,
      host: undefined,
    });
    const taken = snapshot({ apps, instances: [waiting], seed: 'a8f0c1e2-pass-42' });
    // What the log keeps of a pass is its seed; the snapshot is rebuilt from the same state.
    const replay = structuredClone(taken);
    const first = planPass(taken);
    const again = planPass(replay);
    expect(placedOf(first)).toHaveLength(12);
    expect(placedOf(again)).toEqual(placedOf(first));
    expect(again.intents).toEqual(first.intents);
    // The seed decides: another seed names other instances.
    const other = planPass({ ...structuredClone(taken), seed: 'another-seed' });
    expect(
      other.intents.flatMap((p) => p.intent.create ?? []).map((i) => i.instanceId),
    ).not.toEqual(first.intents.flatMap((p) => p.intent.create ?? []).map((i) => i.instanceId));
  });

  it('creates a new instance already placed: one write, then its launch', () => {
    const app = makeApp({ id: '/one', instances: 1 });
    const plan = planPass(snapshot({ apps: [app] }));
    expect(plan.intents).toHaveLength(1);
    const [only] = plan.intents;
    expect(only?.intent.create).toEqual([
      expect.objectContaining({ appId: '/one', condition: 'Provisioned', goal: 'Running' }),
    ]);
    expect(only?.intent.update).toEqual([]);
    expect(only?.intent.requireApps).toEqual([{ appId: '/one', version: app.version }]);
    expect(only?.launches).toEqual([
      expect.objectContaining({ agentId: only?.intent.create?.[0]?.agentId }),
    ]);
  });

  it("tells of a placement with Marathon's TASK_STAGING events, stored in the same write", () => {
    const app = makeApp({ id: '/one', instances: 1 });
    const waiting = makeInstance({
      instanceId: 'one.instance-w',
      appId: '/one',
      condition: 'Scheduled',
      agentId: undefined,
      host: undefined,
    });
    const idle = makeInstance({ instanceId: 'one.instance-r', appId: '/one' });
    const plan = planPass(
      snapshot({ apps: [{ ...app, instances: 2 }], instances: [waiting, idle] }),
    );
    const [only] = plan.intents;
    const [launch] = only?.launches ?? [];
    const placed = only?.intent.update?.[0]?.instance;
    expect(placed?.condition).toBe('Provisioned');
    // Only the instance placed now: the one already running has nothing new to tell.
    expect(only?.intent.events).toEqual([
      expect.objectContaining({
        eventType: 'status_update_event',
        taskStatus: 'TASK_STAGING',
        taskId: launch?.taskId,
        slaveId: launch?.agentId,
        appId: '/one',
        host: placed?.host,
        version: app.version,
      }),
      expect.objectContaining({
        eventType: 'instance_changed_event',
        instanceId: 'one.instance-w',
        condition: 'Provisioned',
        agentId: launch?.agentId,
      }),
    ]);
  });

  it('names the revision each update and expunge was computed from', () => {
    const app = makeApp({ id: '/app', instances: 1 });
    const running = makeInstance({ instanceId: 'app.instance-1' });
    const extra = makeInstance({ instanceId: 'app.instance-2', condition: 'Staging' });
    const gone = makeInstance({
      instanceId: 'app.instance-3',
      goal: 'Decommissioned',
      condition: 'Killed',
    });
    const plan = planPass(snapshot({ apps: [app], instances: [running, extra, gone] }));
    const [only] = plan.intents;
    expect(only?.intent.update).toEqual([
      { instance: { ...extra, goal: 'Decommissioned' }, revision: 2 },
    ]);
    expect(only?.intent.expunge).toEqual([{ instanceId: 'app.instance-3', revision: 3 }]);
    expect(only?.kills).toEqual([{ agentId: 'agent-1', taskId: 'app.instance-2._app.1' }]);
  });

  it('stops the instances of a removed app, requiring that it is still absent', () => {
    const orphan = makeInstance({ instanceId: 'old.instance-1', appId: '/old' });
    const plan = planPass(snapshot({ apps: [], instances: [orphan] }));
    expect(plan.intents).toEqual([
      expect.objectContaining({
        appId: '/old',
        intent: expect.objectContaining({ requireApps: [{ appId: '/old', version: undefined }] }),
        kills: [{ agentId: 'agent-1', taskId: 'old.instance-1._app.1' }],
      }),
    ]);
  });

  it('leaves an app of a later step alone, and releases it in the pass that ends the step', () => {
    const { base, top, deployment } = baseThenTop('d-1');
    // /base has nothing yet: only it is placed; /top waits for its step.
    const waiting = planPass(snapshot({ apps: [base, top], deployments: [deployment] }));
    expect(waiting.intents.map((p) => p.appId)).toEqual(['/base']);
    // /base runs: step 1 ends, and /top is placed in the same pass.
    const running = makeInstance({ instanceId: 'base.instance-1', appId: '/base' });
    const released = planPass(
      snapshot({ apps: [base, top], instances: [running], deployments: [deployment] }),
    );
    expect(released.intents.map((p) => p.appId ?? p.intent.progress?.[0]?.deployment.id)).toEqual([
      '/top',
      'd-1',
    ]);
    const progress = released.intents[1]?.intent;
    expect(progress?.progress).toEqual([
      { deployment: { ...deployment, currentStep: 2 }, revision: 7 },
    ]);
    expect(progress?.events?.map((e) => e.eventType)).toEqual([
      'deployment_step_success',
      'deployment_info',
    ]);
  });

  it('places for a deployment not yet stored, and leaves its progress to a later pass', () => {
    const { base, top, deployment } = baseThenTop('d-pending');
    const running = makeInstance({ instanceId: 'base.instance-1', appId: '/base' });
    // A deploy's write still pending (snapshot.ts `PendingDeploy`): no revision to name yet.
    const plan = planPass({
      ...snapshot({ apps: [base, top], instances: [running] }),
      deployments: [{ value: deployment, revision: -1 }],
    });
    // Its step 1 ends in this pass's view, so /top is placed; the step's end is not written.
    expect(plan.intents.map((p) => p.appId)).toEqual(['/top']);
    expect(plan.intents.flatMap((p) => p.intent.progress ?? [])).toEqual([]);
    // ...but the pass after it is stored does: its apps are asked for again.
    expect(plan.deferred).toEqual(['/base', '/top']);
  });

  it('does not place an instance of an app in launch backoff', () => {
    const app = makeApp({ id: '/slow', instances: 1 });
    const failed = makeInstance({
      instanceId: 'slow.instance-1',
      appId: '/slow',
      condition: 'Failed',
    });
    const taken = {
      ...snapshot({ apps: [app], instances: [failed] }),
      backoff: new Map([['/slow', NOW + 5_000]]),
    };
    const plan = planPass(taken);
    expect(plan.placement.placements).toEqual([]);
    const [only] = plan.intents;
    expect(only?.intent.update?.[0]?.instance).toMatchObject({
      condition: 'Scheduled',
      incarnation: 2,
      launchNotBefore: NOW + 5_000,
    });
    expect(only?.launches).toEqual([]);
  });
});
