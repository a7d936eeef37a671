// `pacer lb` wired together: follows the master (event stream + snapshots) into the cluster view,
// serves the vhost listener on `port` (with the status page and metrics) and one listener per
// routed service port, and proxies to the backends.
//
//   /v2/events ──► event-news ──► cluster-view ◄── snapshot-sync ◄── /v2/apps?embed=apps.tasks
//                      │ (takes out at once)   │ table change
//                      └──► snapshot-sync      ├──► listeners (service ports, http | tcp)
//                                              └──► backend-pools.retainOnly (drain the rest)
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../lib/index.js';
import { createBackendPools } from './backend-pools.js';
import { createClusterView } from './cluster-view.js';
import { followEvents } from './event-follower.js';
import { meaningOf } from './event-news.js';
import { hostHeaderOf, hostOf } from './host-header.js';
import { proxyHttp, type ProxyContext } from './http-proxy.js';
import { fetchApps, type MasterConnection } from './master-client.js';
import { createLbMetrics } from './metrics.js';
import type { AppRoute, RouteTable } from './route-table.js';
import { createSnapshotSync } from './snapshot-sync.js';
import { statusDocument } from './status-page.js';
import { createTcpProxy } from './tcp-proxy.js';

export interface BalancerOptions {
  master: MasterConnection;
  logger: Logger;
  /** The vhost listener's port (0: any free port). */
  port: number;
  /** Listen address of every listener. */
  host: string;
  /** `HAPROXY_GROUP` served (`*`: every app). */
  group: string;
  upstreamTimeoutMs?: number;
  /** How long a request waits for a route without backends to get one (then 503). */
  noBackendWaitMs?: number;
  /** Client connections per listener at most. */
  maxConnections?: number;
  /** Time a client has to send its request headers (slowloris). */
  headersTimeoutMs?: number;
  /** An idle client or TCP connection is closed after this. */
  idleTimeoutMs?: number;
  /** Only for tests: how long a silent event stream is believed. */
  eventIdleTimeoutMs?: number;
}

export interface Balancer {
  /** The vhost listener's port. */
  port: number;
  table(): RouteTable;
  /** Resolves once a snapshot read after this call is applied (tests). */
  synced(): Promise<void>;
  status(): unknown;
  stop(): Promise<void>;
}

const STATUS_PATH = '/_pacer/lb/status';
const METRICS_PATH = '/_pacer/lb/metrics';
/** Requests waiting for a backend at most; beyond it they get their 503 at once. */
const MAX_WAITING = 10_000;

interface Listener {
  port: number;
  mode: 'http' | 'tcp';
  server: net.Server;
  error?: string;
}

export async function startBalancer(options: BalancerOptions): Promise<Balancer> {
  const { logger, group } = options;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 30_000;
  const noBackendWaitMs = options.noBackendWaitMs ?? 3_000;
  const maxConnections = options.maxConnections ?? 10_000;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const metrics = createLbMetrics();
  const pools = createBackendPools({ upstreamTimeoutMs });
  const reservedPorts = new Set<number>(options.port > 0 ? [options.port] : []);
  const view = createClusterView({ group, reservedPorts });
  const listeners = new Map<number, Listener>();
  let connections = 0;
  let inFlight = 0;

  // Requests waiting for a route to get a backend, woken on each table change.
  let waiting: (() => void)[] = [];
  view.onChange((table) => {
    const keys = new Set<string>();
    for (const route of table.routes) for (const b of route.backends) keys.add(b.key);
    pools.retainOnly(keys);
    reconcileListeners(table);
    const wake = waiting;
    waiting = [];
    for (const w of wake) w();
  });

  const findRoute = (appId: string) => view.table().routes.find((r) => r.appId === appId);
  const ctx: ProxyContext = {
    pools,
    metrics,
    logger,
    maxAttempts: 3,
    ejectMs: 2_000,
    async awaitBackends(route: AppRoute) {
      const deadline = Date.now() + noBackendWaitMs;
      let current = findRoute(route.appId);
      while (current && current.backends.length === 0 && Date.now() < deadline) {
        if (waiting.length >= MAX_WAITING) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        current = findRoute(route.appId);
      }
      return current && current.backends.length > 0 ? current : undefined;
    },
  };

  function answerText(
    res: http.ServerResponse,
    {
      status,
      text,
      type = 'text/plain; charset=utf-8',
    }: { status: number; text: string; type?: string },
  ) {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function serveAdmin(path: string, res: http.ServerResponse): boolean {
    if (path === STATUS_PATH) {
      answerText(res, {
        status: 200,
        text: `${JSON.stringify(statusOf(), null, 2)}\n`,
        type: 'application/json',
      });
      return true;
    }
    if (path === METRICS_PATH) {
      const backends = new Map<string, number>();
      for (const route of view.table().routes) backends.set(route.appId, route.backends.length);
      const text = metrics.render({
        backends,
        inFlight,
        connections,
        eventStreamConnects: follower.connects(),
        eventStreamConnected: follower.isConnected(),
      });
      answerText(res, { status: 200, text, type: 'text/plain; version=0.0.4; charset=utf-8' });
      return true;
    }
    return false;
  }

  /** One proxied request, counted in flight; a failure of the balancer itself cuts it. */
  async function proxyCounted(exchange: Parameters<typeof proxyHttp>[1]): Promise<void> {
    inFlight += 1;
    try {
      await proxyHttp(ctx, exchange);
    } catch (error) {
      logger.error({ err: error, appId: exchange.route.appId }, 'proxying failed');
      exchange.res.destroy();
    } finally {
      inFlight -= 1;
    }
  }

  function createHttpListener(
    resolve: (req: http.IncomingMessage, path: string) => AppRoute | undefined,
    listenPort: () => number,
    isAdmin = false,
  ) {
    const server = http.createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: Math.max(upstreamTimeoutMs, headersTimeoutMs) * 2,
        keepAliveTimeout: 5_000,
        connectionsCheckingInterval: 500,
        maxHeaderSize: 16 * 1024,
        requireHostHeader: true,
      },
      (req, res) => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        // Origin-form only: an absolute URI would make the balancer an open forward proxy.
        if (!path.startsWith('/')) {
          metrics.countRequest('', 400);
          return answerText(res, {
            status: 400,
            text: 'Only origin-form request targets are accepted\n',
          });
        }
        if (isAdmin && req.method === 'GET' && serveAdmin(path, res)) return;
        const route = resolve(req, path);
        if (!route) {
          metrics.countRequest('', 404);
          return answerText(res, { status: 404, text: 'No app serves this host and path\n' });
        }
        void proxyCounted({ req, res, route, listenPort: listenPort() });
      },
    );
    server.maxConnections = maxConnections;
    server.timeout = idleTimeoutMs;
    server.on('connection', (socket: net.Socket) => {
      connections += 1;
      socket.once('close', () => {
        connections -= 1;
      });
    });
    server.on('clientError', (error, socket) => {
      // Malformed requests, smuggling attempts (Transfer-Encoding with Content-Length), headers
      // too big or too slow: a plain 400/408/431 and the connection closed.
      const code = (error as { code?: string }).code;
      const status =
        code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      if (socket.writable)
        socket.end(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
        );
      else socket.destroy();
    });
    return server;
  }

  function reconcileListeners(table: RouteTable): void {
    const wanted = new Map<number, AppRoute>();
    for (const route of table.routes)
      if (route.servicePort !== undefined) wanted.set(route.servicePort, route);
    for (const [port, listener] of listeners) {
      const route = wanted.get(port);
      if (route && route.mode === listener.mode) continue;
      listeners.delete(port);
      listener.server.close();
      if (listener.server instanceof http.Server) listener.server.closeIdleConnections();
    }
    for (const [port, route] of wanted) {
      if (listeners.has(port)) continue;
      const appId = route.appId;
      const current = () => view.table().matchServicePort(port);
      const server =
        route.mode === 'tcp'
          ? createTcpProxy({
              pools,
              logger,
              route: current,
              idleTimeoutMs,
              maxConnections,
              maxAttempts: 3,
              ejectMs: 2_000,
            })
          : createHttpListener(
              () => current(),
              () => port,
            );
      const listener: Listener = { port, mode: route.mode, server };
      listeners.set(port, listener);
      server.on('error', (error: Error) => {
        listener.error = error.message;
        logger.error({ port, appId, err: error }, 'cannot listen on the service port');
      });
      server.listen(port, options.host, () =>
        logger.info({ port, appId, mode: route.mode }, 'listening on a service port'),
      );
    }
  }

  // The status page and metrics are the balancer's own paths on the vhost listener only.
  const main = createHttpListener(
    (req, path) => view.table().matchVhost(hostOf(hostHeaderOf(req.rawHeaders)) ?? '', path),
    () => mainPort,
    true,
  );
  await new Promise<void>((resolve, reject) => {
    main.once('error', reject);
    main.listen(options.port, options.host, () => {
      main.off('error', reject);
      resolve();
    });
  });
  const mainPort = (main.address() as net.AddressInfo).port;
  reservedPorts.add(mainPort);

  const sync = createSnapshotSync({
    read: () => fetchApps(options.master),
    apply: (apps) => view.applySnapshot(apps),
    logger,
  });
  const follower = followEvents({
    master: options.master,
    ...(options.eventIdleTimeoutMs ? { idleTimeoutMs: options.eventIdleTimeoutMs } : {}),
    onEvent(event) {
      const meaning = meaningOf(event);
      if (meaning.news) view.applyNews(meaning.news);
      if (meaning.shouldResync) sync.request();
    },
    onConnected() {
      logger.info({ lastEventId: follower.lastEventId() }, 'event stream attached');
      // Whatever happened while detached is read from a snapshot, not guessed.
      sync.request();
    },
    onDisconnected(error) {
      logger.warn({ err: error }, 'event stream lost; reconnecting');
    },
  });
  // A safety net under the stream: a snapshot every minute even if every event were lost.
  const resync = setInterval(() => sync.request(), 60_000);
  resync.unref();

  function statusOf(): unknown {
    const lastEventId = follower.lastEventId();
    const lastSyncAt = sync.lastSyncAt();
    return statusDocument({
      group,
      table: view.table(),
      pools,
      excluded: view.excluded(),
      listeners: [
        { port: mainPort, mode: 'vhost' },
        ...[...listeners.values()].map((l) => ({
          port: l.port,
          mode: l.mode,
          ...(view.table().matchServicePort(l.port)
            ? { appId: view.table().matchServicePort(l.port)?.appId }
            : {}),
          ...(l.error ? { error: l.error } : {}),
        })),
      ],
      eventStream: {
        connected: follower.isConnected(),
        connects: follower.connects(),
        ...(lastEventId !== undefined ? { lastEventId } : {}),
        ...(lastSyncAt ? { lastSyncAt } : {}),
      },
    });
  }

  return {
    port: mainPort,
    table: () => view.table(),
    synced: () => sync.settled(),
    status: statusOf,
    async stop() {
      clearInterval(resync);
      follower.stop();
      sync.stop();
      const servers = [main, ...[...listeners.values()].map((l) => l.server)];
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              if (server instanceof http.Server) server.closeAllConnections();
            }),
        ),
      );
      await pools.close();
    },
  };
}
