// What the HTTP edge needs from the rest of the master, passed to `createApi` as one object.
import type { Clock, Logger } from '../lib/index.js';
import type { EventHub, LogReader, Orchestrator } from '../master/services.js';
import type { Leadership } from '../master/leadership.js';
import type { QueueEntry } from '../master/launch-queue-view.js';
import type { Store } from '../store/store.js';

/** Static facts about this master, shown by `/v2/info` and used in headers and artifact URIs. */
export interface ApiInfo {
  /** Pacer's version (package.json). */
  version: string;
  /** `host:port` of the current leader, shown by `/v2/info` and `/v2/leader`. */
  leaderHostPort: string;
  /** The master's base URL, e.g. `http://master:8080`, used to build artifact URIs. */
  publicUrl: string;
  /** Mesos-like framework id shown by `/v2/info`; a stable default is used when absent. */
  frameworkId?: string;
}

/** The HTTP edge's dependencies. Reads go straight to `store`; writes go through `orchestrator`. */
export interface ApiDeps {
  store: Store;
  orchestrator: Orchestrator;
  events: EventHub;
  logs: LogReader;
  logger: Logger;
  info: ApiInfo;
  /**
   * Leader election among masters. When absent this master is always the leader. A follower
   * proxies requests to `leaderUrl()`; `DELETE /v2/leader` calls `abdicate()`.
   */
  leadership?: Pick<Leadership, 'isLeader' | 'leaderUrl' | 'abdicate'>;
  /** The launch queue for `/v2/queue` (apps waiting for agents, delays, offer summaries). */
  queue?: { list(): Promise<QueueEntry[]> };
  /** Time for `/v2/queue` delays and synthetic timestamps; the system clock when absent. */
  clock?: Clock;
  /** Largest JSON request body in bytes (413 beyond); default 1 MiB... see server.ts. */
  maxBodyBytes?: number;
  /** Largest artifact upload in bytes (413 beyond). */
  maxArtifactBytes?: number;
}
