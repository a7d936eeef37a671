// The indexes the applier keeps beside its instances: per app, the waiting ones, and what each
// agent holds (with a token that changes only when the holdings do).
import { describe, expect, it } from 'vitest';
import type { Instance } from '../../domain/index.js';
import { makeInstance } from '../../scheduler/fixtures.js';
import type { StateData } from './state.js';
import {
  commitDraft,
  createAppView,
  createInstanceView,
  emptyDraft,
  emptyState,
  loadState,
} from './state.js';

function apply(state: StateData, put: Instance[], remove: string[] = []): void {
  const draft = emptyDraft(state.revision);
  const revision = ++draft.revision;
  for (const instance of put)
    draft.instances.set(instance.instanceId, { value: instance, revision });
  for (const id of remove) draft.instances.set(id, null);
  commitDraft(state, draft);
}

function setUp(instances: Instance[]) {
  const state = emptyState();
  loadState(state, { apps: [], deployments: [], instances });
  return { state, view: createInstanceView(() => state) };
}

const ids = (list: { instanceId: string }[]) => list.map((i) => i.instanceId).sort();

describe('instance indexes', () => {
  it('lists the waiting instances, and drops one once it is placed or removed', () => {
    const a = makeInstance({ instanceId: 'a', condition: 'Scheduled', agentId: undefined });
    const b = makeInstance({ instanceId: 'b', condition: 'Scheduled', agentId: undefined });
    const { state, view } = setUp([a, b, makeInstance({ instanceId: 'c' })]);
    expect(ids(view.waiting().map((r) => r.value))).toEqual(['a', 'b']);
    apply(state, [{ ...a, condition: 'Provisioned', agentId: 'agent-1' }], ['b']);
    expect(view.waiting()).toEqual([]);
  });

  it("keeps each app's records apart, with their revisions", () => {
    const { state, view } = setUp([
      makeInstance({ instanceId: 'x1', appId: '/x' }),
      makeInstance({ instanceId: 'y1', appId: '/y' }),
    ]);
    apply(state, [makeInstance({ instanceId: 'x2', appId: '/x' })]);
    expect(ids(view.recordsOfApp('/x').map((r) => r.value))).toEqual(['x1', 'x2']);
    expect(view.recordsOfApp('/x').find((r) => r.value.instanceId === 'x2')?.revision).toBe(
      state.revision,
    );
    expect(ids(view.recordsOfApp('/y').map((r) => r.value))).toEqual(['y1']);
    apply(state, [], ['y1']);
    expect(view.recordsOfApp('/y')).toEqual([]);
  });

  it('keeps the holdings token through status changes and replaces it when holdings change', () => {
    const running = makeInstance({ instanceId: 'r', condition: 'Staging', agentId: 'agent-1' });
    const { state, view } = setUp([running]);
    const first = view.heldOn('agent-1');
    expect(ids(first.instances)).toEqual(['r']);
    // Staging → Running holds the same resources: same token.
    apply(state, [{ ...running, condition: 'Running' }]);
    expect(view.heldVersionOn('agent-1')).toBe(first.version);
    // A new placement on the agent: new token.
    apply(state, [makeInstance({ instanceId: 's', condition: 'Provisioned', agentId: 'agent-1' })]);
    const second = view.heldVersionOn('agent-1');
    expect(second).not.toBe(first.version);
    expect(ids(view.heldOn('agent-1').instances)).toEqual(['r', 's']);
    // An instance that ends frees its resources: new token, and it is no longer held.
    apply(state, [{ ...running, condition: 'Killed' }]);
    expect(view.heldVersionOn('agent-1')).not.toBe(second);
    expect(ids(view.heldOn('agent-1').instances)).toEqual(['s']);
    // Moved to another agent (a relaunch placed elsewhere): both agents' tokens change.
    const beforeOther = view.heldVersionOn('agent-2');
    const third = view.heldVersionOn('agent-1');
    apply(state, [makeInstance({ instanceId: 's', condition: 'Provisioned', agentId: 'agent-2' })]);
    expect(view.heldVersionOn('agent-1')).not.toBe(third);
    expect(view.heldVersionOn('agent-2')).not.toBe(beforeOther);
    expect(view.heldOn('agent-1').instances).toEqual([]);
    expect(ids(view.heldOn('agent-2').instances)).toEqual(['s']);
  });

  it('does not count waiting or ended instances as held', () => {
    const { view } = setUp([
      makeInstance({ instanceId: 'w', condition: 'Scheduled', agentId: 'agent-1' }),
      makeInstance({ instanceId: 'f', condition: 'Failed', agentId: 'agent-1' }),
    ]);
    expect(view.heldOn('agent-1').instances).toEqual([]);
  });

  it('gives fresh tokens after a load, so nothing derived before it is reused', () => {
    const held = makeInstance({ instanceId: 'h', agentId: 'agent-1' });
    const { state, view } = setUp([held]);
    const before = view.heldVersionOn('agent-1');
    loadState(state, { apps: [], deployments: [], instances: [held] });
    expect(view.heldVersionOn('agent-1')).not.toBe(before);
  });
});

describe('enforcing groups', () => {
  it('loads the stored records and follows every committed record', () => {
    const state = emptyState();
    loadState(state, {
      apps: [],
      deployments: [],
      instances: [],
      groups: [{ id: '/web', enforceRole: true }],
    });
    const view = createAppView(
      () => state,
      async () => undefined,
    );
    expect([...view.enforcingGroups()]).toEqual(['/web']);
    const draft = emptyDraft(state.revision);
    draft.groups.set('/web', { id: '/web', enforceRole: false });
    draft.groups.set('/db', { id: '/db', enforceRole: true });
    commitDraft(state, draft);
    expect([...view.enforcingGroups()]).toEqual(['/db']);
  });
});
