// Wiring of the master role: builds every part from its dependencies and starts the loops.
import type { Bus } from '../bus/index.js';
import { createApi } from '../api/server.js';
import { startHttpServer } from '../api/http-server.js';
import { toAppJson } from '../api/v2/wire/app-json.js';
import { toGroupInfo } from '../api/v2/wire/group-json.js';
import type { TlsFiles } from '../api/http-server.js';
import type { Dispatcher } from 'undici';
import type { SecretBox } from './secret-box.js';
import type { LimitsConfig } from '../config.js';
import { bootstrapPrincipal, createAuthenticator } from '../api/auth/index.js';
import type { AuthConfig } from '../config.js';
import { toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';
import { createAgentBook } from './agent-book.js';
import { createAgentCommands } from './agent-commands.js';
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
import { createLogReader } from './log-reader.js';
import { createOrchestrator } from './orchestrator.js';
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
  port: number;
  host: string;
  /** Authentication (on with a bootstrap token); absent or without a token: off. */
  auth?: AuthConfig;
  publicUrl: string;
  version: string;
  agentTimeoutMs: number;
  placement?: 'binpack' | 'spread';
  evaluationIntervalMs?: number;
  /** Leader lease length; a dead leader is replaced after at most this long. */
  leaseTtlMs?: number;
  /** Serve HTTPS with these PEM files. */
  tls?: TlsFiles;
  /** Verifies the leader's HTTPS when this master follows (`--ca`). */
  relayDispatcher?: Dispatcher;
  /**
   * Only agents that joined with a token (and so have their own Redis user) are heard; without
   * it, agents that announce themselves on the shared `agents` stream are heard too.
   */
  requireAgentIdentity?: boolean;
  /** Creates and deletes agents' Redis users; absent on the in-process bus. */
  agentAcl?: AgentAcl;
  /** How long an agent join token stays usable. Default 1 h. */
  agentTokenTtlMs?: number;
  /** Seals secret values; without it the master refuses secrets. */
  secretBox?: SecretBox;
  /** Stream caps and the artifact quota; the API's defaults when absent. */
  limits?: LimitsConfig;
}

export interface RunningMaster {
  /** The port the HTTP API listens on. */
  port: number;
  /** Messages dropped from agents, by agent and reason (also at `/metrics`). */
  trust: Pick<ReturnType<typeof createAgentTrust>, 'dropped'>;
  stop(): Promise<void>;
}

export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const { store, bus, clock, logger, masterId } = options;
  const events = createEventHub({ store, clock, logger });
  // The one writer of instances, apps and deployments; everything else reads its views.
  const applier = createApplier({
    store,
    events,
    logger,
    // Deployment events carry the root group before and after, as `GET /v2/groups` shows it.
    renderRootGroup: (apps) =>
      toGroupInfo({
        groupId: '/',
        apps,
        embed: { groups: true, apps: true, pods: true },
        appInfo: (app) => ({ ...toAppJson(app) }),
        fallbackVersion: toTimestamp(clock.now()),
      }),
  });
  const tracker = applier.instances;
  const agents = createAgentBook({ store, clock, logger, timeoutMs: options.agentTimeoutMs });
  const launchQueue = createLaunchQueue({ clock });
  const commands = createAgentCommands({ bus });
  const queueView = createQueueView({ launchQueue });
  const loop = createEvaluationLoop({
    applier,
    agents,
    commands,
    launchQueue,
    queueView,
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
  const orchestrator = createOrchestrator({
    applier,
    commands,
    launchQueue,
    clock,
    logger,
    onChange,
  });
  const taskMetrics = createTaskMetrics();
  const statuses = createStatusHandler({
    applier,
    launchQueue,
    commands,
    metrics: taskMetrics,
    clock,
    logger,
    onChange,
  });
  const health = createHealthHandler({ applier, commands, clock, logger, onChange });
  const liveness = createAgentLiveness({
    applier,
    agents,
    commands,
    clock,
    logger,
    onChange,
  });

  const readiness = createReadinessChecker({ applier, clock, logger, onChange });

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
    liveness,
    trust,
    logger,
  });

  let livenessTimer: NodeJS.Timeout | undefined;
  let isLeading = false;
  // A Redis that restarted lost the agents' users: the leader puts them back.
  options.agentAcl?.onReconnect(() => {
    if (!isLeading) return;
    identity
      .restore()
      .then((joined) => logger.info({ agents: joined.length }, 'agent redis users restored'))
      .catch((error: unknown) => logger.error({ err: error }, 'restoring agent users failed'));
  });

  /** Leading: rebuild the view from the store and the agents' reports, then run the loops. */
  async function lead(): Promise<void> {
    await applier.load();
    await agents.load();
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
  }

  async function follow(): Promise<void> {
    isLeading = false;
    clearInterval(livenessTimer);
    await agentReports.stop();
    await loop.stop();
    // Another master writes now: this copy would go stale, so nothing may act on it.
    applier.forget();
  }

  const leadership = createLeadership({
    store,
    clock,
    logger,
    self: options.publicUrl,
    ttlMs: options.leaseTtlMs,
    onElected: lead,
    onDefeated: follow,
  });

  const auth = await startAuthentication(options);
  const api = createApi({
    auth,
    store,
    // Reads come from the leader's memory; a follower relays them to the leader.
    live: liveState(applier),
    orchestrator,
    events,
    logs: createLogReader({
      bus,
      agentOf: (taskId) => tracker.byTaskId(taskId)?.agentId ?? agentReports.agentOfTask(taskId),
    }),
    logger,
    clock,
    queue: queueView,
    taskMetrics: { counters: () => [...taskMetrics.counters(), ...trust.counters()] },
    leadership,
    ...(options.relayDispatcher ? { relayDispatcher: options.relayDispatcher } : {}),
    agentIdentity: identity,
    ...(options.secretBox ? { secretBox: options.secretBox } : {}),
    streamCaps: {
      ...(options.limits?.eventStreams ? { eventStreams: options.limits.eventStreams } : {}),
      ...(options.limits?.logFollows ? { logFollows: options.limits.logFollows } : {}),
    },
    ...(options.limits?.artifactQuotaBytes !== undefined
      ? { artifactQuotaBytes: options.limits.artifactQuotaBytes }
      : {}),
    info: {
      version: options.version,
      leaderHostPort: new URL(options.publicUrl).host,
      publicUrl: options.publicUrl,
    },
  });
  // Elect (or learn the leader) before listening: a request must never find no leader at all.
  await leadership.start();
  const server = await startHttpServer({
    app: api,
    port: options.port,
    host: options.host,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  logger.info({ port: server.port, publicUrl: options.publicUrl }, 'master listening');

  return {
    port: server.port,
    trust,
    async stop() {
      await server.close();
      await leadership.stop();
      await events.flush();
      logger.info('master stopped');
    },
  };
}

/** Bootstraps and returns the authenticator when a bootstrap token is set; warns when off. */
async function startAuthentication(options: MasterOptions) {
  const { store, clock, logger, auth } = options;
  if (auth?.bootstrapToken === undefined) {
    if (auth?.insecure) {
      logger.warn(
        { host: options.host },
        'INSECURE: authentication is off and the API listens beyond loopback (--insecure): ' +
          'anyone who reaches this port can run code on every agent',
      );
    }
    return undefined;
  }
  await bootstrapPrincipal({ store, secret: auth.bootstrapToken, logger });
  return createAuthenticator({ store, clock });
}
