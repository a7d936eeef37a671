// The one writer of the leader's state (Nomad's plan applier, Marathon's instance tracker).
// Writers submit intents; the applier takes them in submission order, checks each against the
// revisions it was computed from, stores every accepted one of a batch in one write, then
// applies them to memory and emits their events. Nothing else changes instances, apps or
// deployments, so no two writers can lose each other's update.
//
//   submit ─► queue ─(next turn)─► batch: check + stage each in order (refused: conflict)
//                                   └─► persist draft + events (one write) ─► memory ─► deliver events ─► resolve
//   a failed batch write: each intent again alone, re-checked, answering for itself
import type { RenderRootGroup } from '../../deployment/index.js';
import { createPlanRenderer, plainRootGroup } from '../../deployment/index.js';
import type { Logger } from '../../lib/index.js';
import { enforcingGroupIds } from '../../domain/index.js';
import type { Store } from '../../store/index.js';
import { renderPlanRefs } from '../deployment-events.js';
import type { EventHub } from '../services.js';
import type { Intent, IntentResult } from './intent.js';
import { isEmptyIntent } from './intent.js';
import { persistDraft } from './persist.js';
import type { RoleView } from './role-policies.js';
import { createRoleView } from './role-policies.js';
import { appKeysOf, conflictsOf, stage } from './stage.js';
import type { AppView, Draft, DrainView, InstanceView, StateData } from './state.js';
import {
  applyChanges,
  commitDraft,
  createAppView,
  createDrainView,
  createInstanceView,
  emptyDraft,
  emptyState,
  loadState,
} from './state.js';

export interface Applier {
  /** Instances as last applied. */
  instances: InstanceView;
  /** Apps and deployments as last applied. */
  apps: AppView;
  /** Quota and weights per role as last applied. */
  roles: RoleView;
  /** Agents in maintenance as last applied. */
  drains: DrainView;
  /**
   * Queues `intent`; resolves once it is stored and applied (`ok`) or refused because a record
   * it was computed from moved (`conflicts`). Intents apply in the order they were submitted;
   * those submitted in one turn of the event loop share a write. Rejects with the store's error
   * when the intent could not be stored, leaving memory as it was.
   */
  submit(intent: Intent): Promise<IntentResult>;
  /**
   * Reads, computes and submits until the intent applies: `compute` runs on the state as last
   * applied and returns the intent (undefined: nothing to do). After a conflict memory holds
   * what moved, so the next attempt sees it. Throws after `attempts` conflicts in a row.
   */
  update(compute: () => Intent | undefined, attempts?: number): Promise<IntentResult | undefined>;
  /** Replaces memory with what the store holds (leadership won, recovery); waits for writes. */
  load(): Promise<void>;
  /** Drops memory (leadership lost): app reads throw, instance reads are empty until `load`. */
  forget(): void;
  /**
   * While following: brings a standby copy of the state up to date with the store (all of it
   * the first time, then what changed since the last refresh). The views never show it; a
   * no-op while a state is loaded (leading).
   */
  refreshStandby(): Promise<{ isWhole: boolean; changed: number }>;
  /**
   * Leadership won: the standby copy, brought up to date with what changed since its last
   * refresh, becomes the state (the same as `load` would read); `load` when there is none.
   */
  takeOver(): Promise<{ isWarm: boolean; changed: number }>;
}

interface Queued {
  intent: Intent;
  resolve: (result: IntentResult) => void;
  reject: (error: unknown) => void;
}

/** Intents per write at most: bounds the statement size and the wait of the last. */
const MAX_INTENTS_PER_BATCH = 1_024;

export function createApplier(options: {
  store: Store;
  events: Pick<EventHub, 'stage'>;
  logger: Logger;
  /** Renders the root group in deployment events' plans (the API's format); plain by default. */
  renderRootGroup?: RenderRootGroup;
}): Applier {
  const { store, events, logger } = options;
  // Each deployment's plan is rendered once, for all its events (plan-json.ts).
  const render = createPlanRenderer(options.renderRootGroup ?? plainRootGroup);
  let state: StateData | undefined;
  /** Revisions keep growing across loads, so a revision read before a load never matches after. */
  let lastRevision = 0;
  const queue: Queued[] = [];
  let writer: Promise<void> | undefined;
  let loading: Promise<void> | undefined;
  /** A follower's copy of the state and the cursor of its last refresh (standby.ts). */
  let standby: { data: StateData; cursor: number } | undefined;
  /** Refreshes and the take-over, one at a time. */
  let standbyWork: Promise<unknown> = Promise.resolve();

  const read = () => state;

  /** Reads what changed since the standby copy's cursor (everything without one) into it. */
  async function refresh(): Promise<{ isWhole: boolean; changed: number }> {
    // Group records are few and have no change feed: read whole each time.
    const [changes, groups] = await Promise.all([
      store.stateChanges.since(standby?.cursor),
      store.groups.list(),
    ]);
    const data = standby?.data ?? emptyState();
    // Revisions keep growing across loads: one read before this copy never matches it.
    data.revision = Math.max(data.revision, lastRevision);
    applyChanges(data, changes);
    data.enforcingGroups = enforcingGroupIds(groups);
    lastRevision = data.revision;
    standby = { data, cursor: changes.cursor };
    const { removed } = changes;
    const changed =
      changes.apps.length +
      changes.instances.length +
      (changes.deployments?.length ?? 0) +
      changes.roles.length +
      changes.drains.size +
      removed.apps.length +
      removed.instances.length +
      removed.deployments.length +
      removed.roles.length +
      removed.drains.length;
    return { isWhole: changes.isWhole, changed };
  }

  /** Runs `work` after the standby work before it (a refresh never overlaps the take-over). */
  function serially<T>(work: () => Promise<T>): Promise<T> {
    const next = standbyWork.then(work, work);
    standbyWork = next.catch(() => undefined);
    return next;
  }

  /** Checks and stages the head of the queue; stops before an intent writing an app twice. */
  function takeBatch(current: StateData): {
    draft: Draft;
    accepted: Queued[];
    refused: { queued: Queued; conflicts: string[] }[];
  } {
    const draft = emptyDraft(current.revision);
    const accepted: Queued[] = [];
    const refused: { queued: Queued; conflicts: string[] }[] = [];
    const appKeys = new Set<string>();
    let taken = 0;
    for (const queued of queue) {
      if (taken >= MAX_INTENTS_PER_BATCH) break;
      // Removed app rows are deleted before apps are put: a batch writes each app once.
      const keys = appKeysOf(queued.intent);
      if (keys.some((key) => appKeys.has(key))) break;
      taken++;
      const conflicts = conflictsOf(current, draft, queued.intent);
      if (conflicts.length > 0) {
        refused.push({ queued, conflicts });
        continue;
      }
      for (const key of keys) appKeys.add(key);
      stage(current, draft, queued.intent);
      accepted.push(queued);
    }
    queue.splice(0, taken);
    return { draft, accepted, refused };
  }

  /**
   * Stores the draft and the events of `accepted` in one write, then memory, events, writers: in
   * that order, so a writer's next read sees it. Rejects with the store's error.
   */
  async function persistAndSettle(current: StateData, draft: Draft, accepted: Queued[]) {
    const staged = events.stage(
      accepted.flatMap((queued) =>
        (queued.intent.events ?? []).map((event) => renderPlanRefs(event, render)),
      ),
    );
    await persistDraft(store, draft, staged);
    // Dropped or reloaded while it was stored: the stored change is in what replaced it.
    if (state === current) commitDraft(current, draft);
    lastRevision = Math.max(lastRevision, draft.revision);
    staged.publish();
    for (const queued of accepted) queued.resolve({ ok: true, revision: draft.revision });
  }

  async function drain(): Promise<void> {
    // One turn first: every writer of this turn (a burst of POSTs, a pass's intents, a bus
    // batch) joins the write. PGlite runs queries on this thread, so without it most held one.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      while (loading) await loading.catch(() => undefined);
      const current = state;
      if (!current) {
        // Forgotten (leadership lost) with writes queued: the next leader reads the store.
        for (const queued of queue.splice(0)) queued.reject(new Error('Master state was dropped'));
        break;
      }
      const { draft, accepted, refused } = takeBatch(current);
      try {
        await persistAndSettle(current, draft, accepted);
      } catch (error) {
        if (accepted.length === 1) accepted[0]?.reject(error);
        else await eachAlone(current, accepted);
      }
      for (const { queued, conflicts } of refused) {
        logger.debug({ source: queued.intent.source, conflicts }, 'intent refused');
        queued.resolve({ ok: false, conflicts });
      }
    }
    writer = undefined;
  }

  /** After a failed batch: one bad intent must not fail the others. */
  async function eachAlone(current: StateData, batch: Queued[]): Promise<void> {
    for (const queued of batch) {
      const draft = emptyDraft(current.revision);
      const conflicts = conflictsOf(current, draft, queued.intent);
      if (conflicts.length > 0) {
        queued.resolve({ ok: false, conflicts });
        continue;
      }
      stage(current, draft, queued.intent);
      try {
        await persistAndSettle(current, draft, [queued]);
      } catch (error) {
        queued.reject(error);
      }
    }
  }

  const applier: Applier = {
    instances: createInstanceView(read),
    apps: createAppView(read, (appId) => store.apps.getLastTaskFailure(appId)),
    roles: createRoleView(read),
    drains: createDrainView(read),

    submit(intent) {
      const current = state;
      if (!current) return Promise.reject(new Error('Master state used before it was loaded'));
      if (isEmptyIntent(intent)) return Promise.resolve({ ok: true, revision: current.revision });
      return new Promise<IntentResult>((resolve, reject) => {
        queue.push({ intent, resolve, reject });
        writer ??= drain();
      });
    },

    async update(compute, attempts = 8) {
      let last: IntentResult | undefined;
      for (let attempt = 0; attempt < attempts; attempt++) {
        const intent = compute();
        if (!intent) return undefined;
        last = await applier.submit(intent);
        if (last.ok) return last;
      }
      throw new Error(
        `Intent kept conflicting after ${attempts} attempts: ${last && !last.ok ? last.conflicts.join('; ') : ''}`,
      );
    },

    async load() {
      while (loading ?? writer) await (loading ?? writer);
      loading = (async () => {
        const [apps, deployments, instances, roles, drains, groups] = await Promise.all([
          store.apps.list(),
          store.deployments.list(),
          store.instances.list(),
          store.rolePolicies.list(),
          store.agents.listDrains(),
          store.groups.list(),
        ]);
        const next = emptyState();
        next.revision = lastRevision;
        loadState(next, { apps, deployments, instances, roles, drains, groups });
        lastRevision = next.revision;
        state = next;
      })();
      try {
        await loading;
      } finally {
        loading = undefined;
      }
    },

    forget() {
      state = undefined;
      standby = undefined;
    },

    refreshStandby() {
      return serially(async () => {
        if (state) return { isWhole: false, changed: 0 };
        return refresh();
      });
    },

    takeOver() {
      return serially(async () => {
        if (!standby) {
          await applier.load();
          return { isWarm: false, changed: 0 };
        }
        // No writer runs while following; a load waits for one anyway.
        while (loading ?? writer) await (loading ?? writer);
        const { changed } = await refresh();
        state = standby?.data;
        standby = undefined;
        return { isWarm: true, changed };
      });
    },
  };
  return applier;
}
