// Keep-alive connection pools to the backends (one upstream-pool per `host:port`), the choice of
// backend for a request (fewest requests in flight, round robin among equals, skipping one that
// just refused a connection), and draining: a backend that leaves the table takes no new request
// and its pool closes once the requests in flight on it have finished.
import type { Backend } from './route-table.js';
import { createUpstreamPool, type UpstreamPool } from './upstream-pool.js';

export interface BackendPools {
  /** The pool of `backend`, made on first use. */
  poolOf(backend: Backend): UpstreamPool;
  /** The backend for the next request, or undefined when `backends` is empty. */
  pick(backends: Backend[], avoid?: Set<string>): Backend | undefined;
  /** Count a request in flight on `key` until the returned function is called (once). */
  track(key: string): () => void;
  inFlight(key: string): number;
  /** `key` refused a connection: skip it for `ms` unless nothing else is left. */
  eject(key: string, ms: number): void;
  isEjected(key: string): boolean;
  /** Close the pools of backends not in `keys` (gracefully: in-flight requests finish). */
  retainOnly(keys: Set<string>): void;
  /** Backends draining now (left the table, requests still in flight). */
  draining(): { key: string; inFlight: number }[];
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Most connections to one backend (bounds what one balancer opens). */
  connectionsPerBackend?: number;
  connectTimeoutMs?: number;
  /** Longest wait for a backend's response head, and longest silence within its body. */
  upstreamTimeoutMs?: number;
  /**
   * How long an idle upstream connection is kept; under the backends' own keep-alive timeout
   * (Node's default 5 s) so the balancer, not the backend, closes it: a request never lands on a
   * connection the backend is closing at that moment.
   */
  keepAliveTimeoutMs?: number;
}

export function createBackendPools(options: PoolOptions = {}): BackendPools {
  const pools = new Map<string, UpstreamPool>();
  const counts = new Map<string, number>();
  const ejectedUntil = new Map<string, number>();
  const closing = new Map<string, UpstreamPool>();
  let turn = 0;

  const inFlight = (key: string) => counts.get(key) ?? 0;
  const isEjected = (key: string) => (ejectedUntil.get(key) ?? 0) > Date.now();

  return {
    poolOf(backend) {
      let pool = pools.get(backend.key);
      if (!pool) {
        pool = createUpstreamPool({
          host: backend.host,
          port: backend.port,
          maxConnections: options.connectionsPerBackend ?? 256,
          connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
          upstreamTimeoutMs: options.upstreamTimeoutMs ?? 30_000,
          keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 4_000,
        });
        pools.set(backend.key, pool);
      }
      return pool;
    },
    pick(backends, avoid) {
      turn = (turn + 1) >>> 0;
      let best: Backend | undefined;
      let bestScore = Infinity;
      for (let i = 0; i < backends.length; i += 1) {
        const backend = backends[(turn + i) % backends.length] as Backend;
        if (avoid?.has(backend.key)) continue;
        // An ejected backend only when all are: better a try than a certain 503.
        const score = inFlight(backend.key) + (isEjected(backend.key) ? 1e9 : 0);
        if (score < bestScore) {
          best = backend;
          bestScore = score;
        }
      }
      return best;
    },
    track(key) {
      counts.set(key, inFlight(key) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const left = inFlight(key) - 1;
        if (left > 0) counts.set(key, left);
        else counts.delete(key);
      };
    },
    inFlight,
    eject(key, ms) {
      ejectedUntil.set(key, Date.now() + ms);
    },
    isEjected,
    retainOnly(keys) {
      for (const [key, pool] of pools) {
        if (keys.has(key)) continue;
        pools.delete(key);
        ejectedUntil.delete(key);
        // close() lets requests already dispatched (or waiting) finish, then ends the connections.
        closing.set(key, pool);
        void pool.close().finally(() => {
          if (closing.get(key) === pool) closing.delete(key);
        });
      }
    },
    draining: () => [...closing.keys()].map((key) => ({ key, inFlight: inFlight(key) })),
    async close() {
      for (const pool of [...pools.values(), ...closing.values()]) pool.destroy();
      await Promise.all([...pools.values(), ...closing.values()].map((p) => p.close()));
      pools.clear();
      closing.clear();
    },
  };
}
