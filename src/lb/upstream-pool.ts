// The keep-alive connections to one backend: an exchange takes the most recently freed idle
// connection, else a new one up to the limit, else waits its turn. `close()` drains: no new
// exchange is taken, idle connections close at once and busy ones when their exchange ends. One
// timer per pool, running only while it has connections, enforces every timeout, so a request
// arms no timer of its own.
import {
  UpstreamConnection,
  UpstreamError,
  upstreamError,
  type Exchange,
} from './upstream-connection.js';

export interface UpstreamPoolOptions {
  host: string;
  port: number;
  /** Connections open at most; further exchanges wait for one to free up. */
  maxConnections: number;
  connectTimeoutMs: number;
  /** Longest wait for the response head (from the request, or from queuing) and body silence. */
  upstreamTimeoutMs: number;
  /** An idle connection is closed after this (under the backend's own keep-alive timeout). */
  keepAliveTimeoutMs: number;
}

export interface UpstreamPool {
  /** Starts `exchange` now or when a connection frees up; refused with `poolClosed` once closing. */
  dispatch(exchange: Exchange): void;
  /** Connections open now. */
  size(): number;
  /** Drains: resolves when the last connection has closed. Idempotent. */
  close(): Promise<void>;
  /** Destroys every connection at once; waiting exchanges fail. */
  destroy(): void;
}

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const all = new Set<UpstreamConnection>();
  const idle: UpstreamConnection[] = [];
  const waiting: { exchange: Exchange; since: number }[] = [];
  let isClosing = false;
  let onDrained: (() => void) | undefined;
  let drained: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tickMs = Math.max(
    10,
    Math.min(250, options.upstreamTimeoutMs / 4, options.keepAliveTimeoutMs / 4),
  );

  const sweep = () => {
    const now = performance.now();
    for (const connection of all) connection.sweep(now);
    while (waiting.length > 0 && now - (waiting[0]?.since ?? now) > options.upstreamTimeoutMs)
      waiting.shift()?.exchange.onError(upstreamError(UpstreamError.headersTimeout));
  };

  const open = (exchange: Exchange) => {
    const connection = new UpstreamConnection({
      host: options.host,
      port: options.port,
      connectTimeoutMs: options.connectTimeoutMs,
      headersTimeoutMs: options.upstreamTimeoutMs,
      bodyTimeoutMs: options.upstreamTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      onIdle,
      onClosed,
    });
    all.add(connection);
    timer ??= setInterval(sweep, tickMs).unref();
    connection.start(exchange);
  };

  function onIdle(connection: UpstreamConnection): void {
    const next = waiting.shift();
    if (next) return connection.start(next.exchange);
    if (isClosing) return connection.closeIfIdle();
    idle.push(connection);
  }

  function onClosed(connection: UpstreamConnection): void {
    all.delete(connection);
    const at = idle.lastIndexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    const next = waiting.shift();
    if (next) return open(next.exchange);
    if (all.size > 0) return;
    clearInterval(timer);
    timer = undefined;
    if (isClosing) onDrained?.();
  }

  return {
    dispatch(exchange) {
      if (isClosing) return exchange.onError(upstreamError(UpstreamError.poolClosed));
      let connection = idle.pop();
      // One the backend closed a moment ago leaves the list on its 'close' event, next tick.
      while (connection?.isClosed) connection = idle.pop();
      if (connection) return connection.start(exchange);
      if (all.size < options.maxConnections) return open(exchange);
      waiting.push({ exchange, since: performance.now() });
    },
    size: () => all.size,
    close() {
      if (drained) return drained;
      isClosing = true;
      drained = new Promise<void>((resolve) => (onDrained = resolve));
      if (all.size === 0) onDrained?.();
      for (const connection of [...idle]) connection.closeIfIdle();
      return drained;
    },
    destroy() {
      isClosing = true;
      for (const { exchange } of waiting.splice(0))
        exchange.onError(upstreamError(UpstreamError.poolClosed));
      for (const connection of [...all]) connection.destroy();
    },
  };
}
