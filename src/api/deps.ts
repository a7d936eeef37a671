// What the HTTP edge needs from the rest of the master, passed to `createApi` as one object
// (the ports themselves are in ports.ts).
import type { Dispatcher } from 'undici';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/store.js';
import type { Authenticator } from './auth/index.js';
import type {
  AgentDrainPort,
  AgentIdentityPort,
  EventHubPort,
  LaunchQueuePort,
  LeadershipPort,
  LiveState,
  LogReaderPort,
  MetricsPort,
  OrchestratorPort,
  RolePoliciesPort,
  SecretBoxPort,
  TaskCountersPort,
  TaskFuelPort,
} from './ports.js';
import type { HotReads } from './hot-reads.js';
import type { ReadModel } from './read-model.js';
import type { ServicePortAssigner } from './service-ports.js';
import type { StreamCapLimits } from './stream-caps.js';

/** Static facts about this master, shown by `/v2/info` and used in headers and artifact URIs. */
export interface ApiInfo {
  /** Pacer's version (package.json). */
  version: string;
  /** `host:port` of this master, shown as the leader when there is no leader election. */
  leaderHostPort: string;
  /** The master's base URL, e.g. `http://master:8080`, used to build artifact URIs. */
  publicUrl: string;
  /** Mesos-like framework id shown by `/v2/info`; a stable default is used when absent. */
  frameworkId?: string;
}

/** The HTTP edge's dependencies. Reads go straight to `store`; writes go through `orchestrator`. */
export interface ApiDeps {
  store: Store;
  orchestrator: OrchestratorPort;
  events: EventHubPort;
  logs: LogReaderPort;
  logger: Logger;
  info: ApiInfo;
  /**
   * Leader election among masters. When absent this master is always the leader. A follower
   * proxies requests to `leaderUrl()` (redirects `/v2/events`); `DELETE /v2/leader` calls
   * `abdicate()`.
   */
  leadership?: LeadershipPort;
  /** The launch queue for `/v2/queue`; without it no app shows a delay or offer summary. */
  queue?: LaunchQueuePort;
  /** Counters of ended tasks and the fuel they used, for `/metrics`; none shown when absent. */
  taskMetrics?: TaskCountersPort;
  /** Time for `/v2/queue` delays and synthetic timestamps; the system clock when absent. */
  clock?: Clock;
  /** `/v2/events` tuning: keep-alive comment interval, events buffered before a slow client is cut off. */
  eventStream?: { keepAliveMs?: number; maxOutstanding?: number };
  /**
   * The leader's state in memory (app cache, instance tracker): reads are answered from it
   * while it holds state, rather than from snapshots of the store.
   */
  live?: LiveState;
  /**
   * How long reads may share one in-memory snapshot of the store, in ms (default 1000). Writes
   * through the API and every event end a snapshot early; 0 reads the store on every request.
   */
  readCacheMs?: number;
  /** Largest JSON request body in bytes (413 beyond); default 1 MiB (server.ts). */
  maxBodyBytes?: number;
  /** Largest artifact upload in bytes (413 beyond). */
  maxArtifactBytes?: number;
  /** Bytes of artifacts one principal may store (413 beyond); default 1 GiB (v2/artifacts.ts). */
  artifactQuotaBytes?: number;
  /**
   * Caps on open `/v2/events` streams and log follows, in total and per principal (429 beyond);
   * defaults in stream-caps.ts.
   */
  streamCaps?: { eventStreams?: StreamCapLimits; logFollows?: StreamCapLimits };
  /** Quota and weights per role; without it `/v2/quota` and `/v2/weights` answer 503. */
  roles?: RolePoliciesPort;
  /** Seals secret values (`PACER_SECRETS_KEY_FILE`); without it `/v2/secrets` writes answer 503. */
  secretBox?: SecretBoxPort;
  /** How a follower reaches the leader over HTTPS: verifies it against `--ca` (lib/tls-client). */
  relayDispatcher?: Dispatcher;
  /**
   * Authentication: when present every request but the open paths (auth/authenticate-request.ts) must
   * prove a principal; when absent every caller is `ANONYMOUS_ADMIN` (loopback or --insecure).
   */
  auth?: Authenticator;
  /** Agents' join tokens, joins and revocation; without it those routes answer 404. */
  agentIdentity?: AgentIdentityPort;
  /** Draining agents (maintenance); without it the drain routes answer 503. */
  agentDrain?: AgentDrainPort;
  /**
   * Running tasks' fuel as agents report it, for `?fuel=true` on task lists; without it only
   * ended tasks show their fuel.
   */
  taskFuel?: TaskFuelPort;
  /**
   * The master's metrics: `/metrics/prometheus` renders them and the edge reports each request's
   * route and latency to them. Without it the edge keeps its own request counts.
   */
  metrics?: MetricsPort;
}

/** What the routers get: the dependencies plus the shared read model built by `createApi`. */
export interface RouteDeps extends ApiDeps {
  reads: ReadModel;
  /** Gives apps their service ports (service-ports.ts); the orchestrator is wrapped with it. */
  assignServicePorts: ServicePortAssigner;
  /** The edge's lane for repeated GET /v2/apps/{id} (hot-reads.ts). */
  hotReads?: HotReads;
}
