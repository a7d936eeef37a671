// Wiring of the master role: builds every part from its dependencies and runs the loops while
// leading. The HTTP edge is joined to it by cli/start-master.ts: master/ never imports api/.
import type { Bus } from '../bus/index.js';
import { topics } from '../bus/index.js';
import type { LimitsConfig } from '../config.js';
import type { RenderRootGroup } from '../deployment/index.js';
import type { SecretBox } from './secret-box.js';
import type { Clock, Logger } from '../lib/index.js';
import { createFencedStore } from '../store/index.js';
import type { Fence, Store } from '../store/index.js';
import { createAgentBook } from './agent-book.js';
import { createAgentCommands } from './agent-commands.js';
import { DEFAULT_ARTIFACT_GRACE_MS, createArtifactCollector } from './artifact-collector.js';
import type { AgentAcl } from './agent-identity.js';
import { createAgentIdentity } from './agent-identity.js';
import { createAgentLiveness } from './agent-liveness.js';
import { createAgentReports } from './agent-reports.js';
import { createAgentTrust } from './agent-trust.js';
import { createApplier } from './applier/index.js';
import { createEvaluationLoop } from './evaluation/index.js';
import { createEventHub } from './event-hub.js';
import { createLaunchQueue } from './launch-queue.js';
import { createQueueView } from './launch-queue-view.js';
import { createLeadership } from './leadership.js';
import { liveState } from './live-state.js';
import { createAgentDrain } from './agent-drain.js';
import { createTaskFuel } from './task-fuel.js';
import { createMasterMetrics } from './metrics/index.js';
import { createLogReader } from './log-reader.js';
import { createOrchestrator } from './orchestrator.js';
import { createRolePolicies } from './role-policies.js';
import { createStatusHandler } from './status-handler.js';
import { createTaskMetrics } from './task-metrics.js';
import { createHealthHandler } from './health-handler.js';
import { createReadinessChecker } from './readiness/readiness-checker.js';

export interface MasterOptions {
  store: Store;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** Unique per master process (bus consumer name). */
  masterId: string;
  /** This master's base URL: its identity in the leader election. */
  publicUrl: string;
  agentTimeoutMs: number;
  placement?: 'binpack' | 'spread';
  evaluationIntervalMs?: number;
  /**
   * True when no other master can open the store (`pacer dev`'s embedded PGlite): writes skip
   * the lease check, which guards against another master, and there is none (a batch of
   * `POST /v2/apps` then writes 8 statements on PGlite instead of 13).
   */
  isSoleMaster?: boolean;
  /** Leader lease length; a dead leader is replaced after at most this long. */
  leaseTtlMs?: number;
  /** How often the leader renews its lease (and followers try it). */
  leaseRenewMs?: number;
  /**
   * How often a follower refreshes its warm copy of the state (`PACER_STANDBY_REFRESH_MS`), so
   * that on election it reads only what changed since; absent or 0: no copy, a cold load.
   */
  standbyRefreshMs?: number;
  /**
   * Only agents that joined with a token (and so have their own Redis user) are heard; without
   * it, agents that announce themselves on the shared `agents` stream are heard too.
   */
  requireAgentIdentity?: boolean;
  /** Creates and deletes agents' Redis users; absent on the in-process bus. */
  agentAcl?: AgentAcl;
  /** How long an agent join token stays usable. Default 1 h. */
  agentTokenTtlMs?: number;
  /** Seals secret values; without it the master refuses secrets (and opens none for launches). */
  secretBox?: SecretBox;
  /** Limits; the master reads the artifact grace period (the API's limits are in cli/start-master.ts). */
  limits?: LimitsConfig;
  /** Renders the root group in deployment events' plans (the API's `GET /v2/groups` format). */
  renderRootGroup?: RenderRootGroup;
}

/** How long the store keeps removals for standbys; one further behind reads everything again. */
const STANDBY_REMOVALS_KEPT_MS = 10 * 60_000;
/** How often the leader trims the removals. */
const STANDBY_TRIM_INTERVAL_MS = 60_000;

/** A master built but not yet started; the HTTP edge is served from its `services`. */
export type Master = ReturnType<typeof createMaster>;

export function createMaster(options: MasterOptions) {
  const { store, bus, clock, logger, masterId } = options;
  // State (apps, instances, deployments, agents, events) is written only while this master holds
  // the leader lease in its term, checked by the database with each write: a leader paused past
  // its lease writes nothing when it wakes. Set once the leadership exists, below.
  let fenceOf: () => Fence | undefined = () => undefined;
  const stateStore = options.isSoleMaster ? store : createFencedStore(store, () => fenceOf());
  const events = createEventHub({ store: stateStore, clock, logger });
  // The one writer of instances, apps and deployments; everything else reads its views.
  const applier = createApplier({
    store: stateStore,
    events,
    logger,
    // Deployment events carry the root group before and after, as `GET /v2/groups` shows it
    // (rendered by the API's format, given by cli/start-master.ts).
    ...(options.renderRootGroup ? { renderRootGroup: options.renderRootGroup } : {}),
  });
  const tracker = applier.instances;
  const agents = createAgentBook({
    store: stateStore,
    clock,
    logger,
    timeoutMs: options.agentTimeoutMs,
  });
  const launchQueue = createLaunchQueue({ clock });
  const { secretBox } = options;
  const commands = createAgentCommands({
    bus,
    logger,
    ...(secretBox && {
      openSecret: async (path: string) => {
        const sealed = await store.secrets.get(path);
        if (!sealed) throw new Error(`secret '${path}' does not exist`);
        return secretBox.open(path, sealed.sealed);
      },
    }),
  });
  const queueView = createQueueView({ launchQueue });
  // Read at scrape time from memory; the leadership is known once created (below).
  let leadershipNow = () => ({ isLeader: false, term: undefined as number | undefined });
  const metrics = createMasterMetrics({
    applier,
    agents,
    launchQueue,
    leadership: () => leadershipNow(),
  });
  const loop = createEvaluationLoop({
    applier,
    agents,
    commands,
    launchQueue,
    // The queue view records each pass's plan; the metrics count it on the way.
    queueView: {
      ...queueView,
      record(plan, now) {
        queueView.record(plan, now);
        metrics.countPlan(plan);
      },
    },
    observePass: (seconds) => metrics.observePass(seconds),
    clock,
    logger,
    algorithm: options.placement,
    intervalMs: options.evaluationIntervalMs,
    onFatal: (error) => {
      // A broken invariant: drop the in-memory view and rebuild it from the store.
      logger.error({ err: error }, 'evaluation failed; reloading state');
      void Promise.all([applier.load(), agents.load()]).catch((reloadError: unknown) =>
        logger.error({ err: reloadError }, 'reload failed'),
      );
    },
  });
  const onChange = (appIds?: string[]) => loop.kick(appIds);
  // News of tasks (statuses, health, readiness) streams in: its passes are paced (evaluation-loop.ts).
  const onTaskNews = (appIds?: string[]) => loop.kick(appIds, { isPaced: true });
  const roles = createRolePolicies({ applier, kickAll: () => loop.kick() });
  const orchestrator = createOrchestrator({
    applier,
    commands,
    launchQueue,
    clock,
    logger,
    onChange,
    passAlong: (pending) => loop.passAlong(pending),
  });
  const taskMetrics = createTaskMetrics();
  const statuses = createStatusHandler({
    applier,
    launchQueue,
    commands,
    metrics: taskMetrics,
    clock,
    logger,
    onChange: onTaskNews,
  });
  const health = createHealthHandler({ applier, commands, clock, logger, onChange: onTaskNews });
  const liveness = createAgentLiveness({
    applier,
    agents,
    commands,
    clock,
    logger,
    onChange,
    newestOfferId: async (agentId) => (await bus.tail(topics.offers(agentId), 1))[0]?.id,
  });

  const taskFuel = createTaskFuel();
  const agentDrain = createAgentDrain({ applier, agents, clock, logger, events, onChange });

  const readiness = createReadinessChecker({ applier, clock, logger, onChange: onTaskNews });

  const trust = createAgentTrust({ logger });
  const identity = createAgentIdentity({
    store,
    acl: options.agentAcl,
    clock,
    logger,
    tokenTtlMs: options.agentTokenTtlMs ?? 3_600_000,
    // Called only after start-up, once agentReports exists.
    onJoined: (agentId) => agentReports.watch(agentId),
    onRevoked: async (agentId) => {
      agentReports.unwatch(agentId);
      metrics.forgetAgent(agentId);
      taskFuel.forgetAgent(agentId);
      await liveness.onRevoked(agentId);
    },
    isKnownAgent: (agentId) => agents.get(agentId) !== undefined,
  });
  const agentReports = createAgentReports({
    bus,
    masterId,
    isIdentityRequired: options.requireAgentIdentity ?? false,
    isRevoked: (agentId) => identity.isRevoked(agentId),
    tracker,
    statuses,
    health,
    liveness: {
      // Each offer may be the one that shows a draining agent empty.
      async onOffer(offer, entryId) {
        await liveness.onOffer(offer, entryId);
        agentDrain.observe(offer.agentId);
      },
    },
    trust,
    commands,
    logger,
    clock,
    onMetrics: (agentId, snapshot) => metrics.onAgentSnapshot(agentId, snapshot),
    onTaskFuel: (agentId, entries) => taskFuel.onOffer(agentId, entries),
    onLag: (stream, seconds) => metrics.observeBusLag(stream, seconds),
  });

  const artifactGraceMs = options.limits?.artifactGraceMs ?? DEFAULT_ARTIFACT_GRACE_MS;
  const artifactCollector = createArtifactCollector({
    store,
    clock,
    logger,
    graceMs: artifactGraceMs,
  });
  let livenessTimer: NodeJS.Timeout | undefined;
  let trimTimer: NodeJS.Timeout | undefined;
  let standbyTimer: NodeJS.Timeout | undefined;
  let isLeading = false;
  // A Redis that restarted lost the agents' users: the leader puts them back.
  options.agentAcl?.onReconnect(() => {
    if (!isLeading) return;
    identity
      .restore()
      .then((joined) => logger.info({ agents: joined.length }, 'agent redis users restored'))
      .catch((error: unknown) => logger.error({ err: error }, 'restoring agent users failed'));
  });

  /** Keeps a warm copy of the state while following (applier `refreshStandby`). */
  function keepWarm(): void {
    applier
      .refreshStandby()
      .then(({ isWhole, changed }) => {
        if (isWhole) logger.info({ records: changed }, 'standby state read whole');
      })
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'refreshing the standby state failed'),
      );
  }

  /**
   * Leading: take over the state (the warm copy brought up to date, or a cold load) and the
   * agents' reports, then run the loops.
   */
  async function lead(): Promise<void> {
    const startedAt = performance.now();
    const took = await applier.takeOver();
    await agents.load();
    const ms = Math.round(performance.now() - startedAt);
    logger.info(
      {
        ...took,
        ms,
        apps: applier.apps.apps().size,
        instances: applier.instances.records().length,
      },
      took.isWarm ? 'state taken over from the warm standby copy' : 'state loaded',
    );
    // Agents' Redis users first (Redis may have restarted empty), then read every agent heard of.
    const joined = await identity.restore();
    for (const agentId of joined) agentReports.watch(agentId);
    if (!options.requireAgentIdentity)
      for (const agent of agents.list()) agentReports.watch(agent.agentId);
    agentReports.start();
    isLeading = true;
    livenessTimer = setInterval(() => {
      liveness
        .tick()
        .catch((error: unknown) => logger.error({ err: error }, 'liveness check failed'));
      readiness
        .tick()
        .catch((error: unknown) => logger.error({ err: error }, 'readiness check failed'));
    }, 1_000);
    loop.start();
    // Removals kept for standbys a while; one that fell further behind reads everything again.
    trimTimer = setInterval(() => {
      store.stateChanges
        .trim(STANDBY_REMOVALS_KEPT_MS)
        .catch((error: unknown) => logger.warn({ err: error }, 'trimming state removals failed'));
    }, STANDBY_TRIM_INTERVAL_MS);
    // A few sweeps per grace period, at most hourly: deletion comes at most a quarter late.
    artifactCollector.start(Math.min(Math.max(artifactGraceMs / 4, 1_000), 3_600_000));
  }

  async function follow(): Promise<void> {
    isLeading = false;
    clearInterval(livenessTimer);
    clearInterval(trimTimer);
    artifactCollector.stop();
    await agentReports.stop();
    await loop.stop();
    // Another master writes now: this copy would go stale, so nothing may act on it.
    applier.forget();
    // The standby copy starts again from the store (refreshStandby reads it whole first).
    if (options.standbyRefreshMs) keepWarm();
  }

  const leadership = createLeadership({
    store,
    clock,
    logger,
    self: options.publicUrl,
    ttlMs: options.leaseTtlMs,
    renewMs: options.leaseRenewMs,
    onElected: lead,
    onDefeated: follow,
  });
  fenceOf = () => leadership.fence();
  leadershipNow = () => ({ isLeader: leadership.isLeader(), term: leadership.term() });

  return {
    /** What the HTTP edge reads and calls (the API's ports, api/ports.ts, by shape). */
    services: {
      store,
      // Reads come from the leader's memory; a follower relays them to the leader.
      live: liveState(applier),
      orchestrator,
      events,
      logs: createLogReader({
        bus,
        agentOf: (taskId: string) =>
          tracker.byTaskId(taskId)?.agentId ?? agentReports.agentOfTask(taskId),
      }),
      queue: queueView,
      taskMetrics: { counters: () => [...taskMetrics.counters(), ...trust.counters()] },
      leadership,
      agentIdentity: identity,
      roles,
      agentDrain,
      taskFuel,
      metrics,
    },
    /** Messages dropped from agents, by agent and reason (also at `/metrics`). */
    trust,
    /** Elects (or learns the leader); resolves once there is a leader to serve requests. */
    async start() {
      const refreshMs = options.standbyRefreshMs;
      if (refreshMs) {
        // Not awaited: a first election waits for this read (takeOver), a follower does not.
        keepWarm();
        standbyTimer = setInterval(() => {
          if (!isLeading) keepWarm();
        }, refreshMs);
      }
      await leadership.start();
    },
    async stop() {
      clearInterval(standbyTimer);
      // Events still queued are written while this master leads; after, the fence refuses them.
      await events.flush();
      await leadership.stop();
      await events
        .flush()
        .catch((error: unknown) => logger.warn({ err: error }, 'events after leadership dropped'));
      logger.info('master stopped');
    },
  };
}
