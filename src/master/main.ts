// Wiring of the master role: builds every part from its dependencies and starts the loops.
import type {
  Bus,
  HealthMessage,
  OfferMessage,
  StatusMessage,
  Subscription,
} from '../bus/index.js';
import { topics } from '../bus/index.js';
import { createApi } from '../api/server.js';
import { startHttpServer } from '../api/http-server.js';
import type { TlsFiles } from '../api/http-server.js';
import type { Dispatcher } from 'undici';
import type { SecretBox } from './secret-box.js';
import type { LimitsConfig } from '../config.js';
import { bootstrapPrincipal, createAuthenticator } from '../api/auth/index.js';
import type { AuthConfig } from '../config.js';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';
import { createAgentBook } from './agent-book.js';
import { createAgentCommands } from './agent-commands.js';
import { createAgentLiveness } from './agent-liveness.js';
import { createAppCache } from './app-cache.js';
import { createEvaluationLoop } from './evaluation-loop.js';
import { createEventHub } from './event-hub.js';
import { createInstanceTracker } from './instance-tracker.js';
import { createLaunchQueue } from './launch-queue.js';
import { createQueueView } from './launch-queue-view.js';
import { createLeadership } from './leadership.js';
import { liveState } from './live-state.js';
import { createLogReader } from './log-reader.js';
import { createOrchestrator } from './orchestrator.js';
import { createStatusHandler } from './status-handler.js';
import { createTaskMetrics } from './task-metrics.js';
import { createHealthHandler } from './health-handler.js';

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
  /** Seals secret values; without it the master refuses secrets. */
  secretBox?: SecretBox;
  /** Stream caps and the artifact quota; the API's defaults when absent. */
  limits?: LimitsConfig;
}

export interface RunningMaster {
  /** The port the HTTP API listens on. */
  port: number;
  stop(): Promise<void>;
}

export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const { store, bus, clock, logger, masterId } = options;
  const events = createEventHub({ store, clock, logger });
  const tracker = createInstanceTracker({ store });
  const cache = createAppCache({ store });
  const agents = createAgentBook({ store, clock, logger, timeoutMs: options.agentTimeoutMs });
  const launchQueue = createLaunchQueue({ clock });
  const commands = createAgentCommands({ bus });
  const queueView = createQueueView({ launchQueue });
  const loop = createEvaluationLoop({
    cache,
    tracker,
    agents,
    commands,
    launchQueue,
    queueView,
    events,
    clock,
    logger,
    algorithm: options.placement,
    intervalMs: options.evaluationIntervalMs,
    onFatal: (error) => {
      // A broken invariant: drop the in-memory view and rebuild it from the store.
      logger.error({ err: error }, 'evaluation failed; reloading state');
      void Promise.all([tracker.load(), agents.load(), cache.load()]).catch(
        (reloadError: unknown) => logger.error({ err: reloadError }, 'reload failed'),
      );
    },
  });
  const onChange = (appIds?: string[]) => loop.kick(appIds);
  const orchestrator = createOrchestrator({
    cache,
    tracker,
    commands,
    launchQueue,
    events,
    clock,
    logger,
    onChange,
  });
  const taskMetrics = createTaskMetrics();
  const statuses = createStatusHandler({
    store,
    cache,
    tracker,
    launchQueue,
    commands,
    events,
    metrics: taskMetrics,
    clock,
    logger,
    onChange,
  });
  const health = createHealthHandler({ cache, tracker, commands, events, clock, logger, onChange });
  const liveness = createAgentLiveness({
    cache,
    agents,
    tracker,
    commands,
    events,
    clock,
    logger,
    onChange,
  });

  let subscriptions: Subscription[] = [];
  let livenessTimer: NodeJS.Timeout | undefined;

  /** Leading: rebuild the view from the store and the agents' reports, then run the loops. */
  async function lead(): Promise<void> {
    await tracker.load();
    await agents.load();
    await cache.load();
    subscriptions = [
      bus.consume<StatusMessage | HealthMessage>({
        stream: topics.status,
        group: 'master',
        consumer: masterId,
        // Status updates of one read are applied together (one store write); a health result
        // splits the run, so each message still takes effect in stream order.
        handleBatch: async (entries) => {
          let run: StatusMessage[] = [];
          for (const { message } of entries) {
            if (message.type !== 'health') {
              run.push(message);
              continue;
            }
            if (run.length > 0) await statuses.handleMany(run);
            run = [];
            await health.handle(message);
          }
          if (run.length > 0) await statuses.handleMany(run);
        },
        onError: (error) => logger.error({ err: error }, 'status handling failed'),
      }),
      bus.consume<OfferMessage>({
        stream: topics.offers,
        group: 'master',
        consumer: masterId,
        handler: (entry) => liveness.onOffer(entry.message),
        onError: (error) => logger.error({ err: error }, 'offer handling failed'),
      }),
    ];
    livenessTimer = setInterval(() => {
      liveness
        .tick()
        .catch((error: unknown) => logger.error({ err: error }, 'liveness check failed'));
    }, 1_000);
    loop.start();
  }

  async function follow(): Promise<void> {
    clearInterval(livenessTimer);
    await Promise.all(subscriptions.map((s) => s.stop()));
    subscriptions = [];
    await loop.stop();
    // Another master writes now: this copy would go stale, so nothing may act on it.
    cache.forget();
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
    live: liveState(cache, tracker),
    orchestrator,
    events,
    logs: createLogReader({ bus }),
    logger,
    clock,
    queue: queueView,
    taskMetrics,
    leadership,
    ...(options.relayDispatcher ? { relayDispatcher: options.relayDispatcher } : {}),
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
