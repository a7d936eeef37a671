// Sends one HTTP request to a backend of its route and streams the answer back. A connection
// the backend refuses is tried on another backend (nothing was sent); a connection that closes
// before any answer is tried again only for an idempotent request without a body (RFC 9110
// 9.2.2). No answer in time is a 504, no backend a 503, a broken backend a 502.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger } from '../lib/index.js';
import type { BackendPools } from './backend-pools.js';
import { clientAddress, upstreamRequestHeaders } from './forwarded-headers.js';
import type { LbMetrics } from './metrics.js';
import type { AppRoute, Backend } from './route-table.js';
import { sendUpstream } from './send-upstream.js';

export interface ProxyContext {
  pools: BackendPools;
  metrics: LbMetrics;
  logger: Logger;
  /** Longest wait for a backend's response headers (then 504). */
  upstreamTimeoutMs: number;
  /** Attempts per request, on distinct backends where there are enough. */
  maxAttempts: number;
  /** How long a backend that refused a connection is skipped. */
  ejectMs: number;
  /**
   * When a route has no backend, wait (bounded) for the table to give it one: during a rolling
   * restart the master may kill the last old task a moment before the balancer has read the new
   * ones. Resolves with the route again, or undefined when none came in time.
   */
  awaitBackends(route: AppRoute): Promise<AppRoute | undefined>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Errors raised before a byte reached the backend: safe to try elsewhere for any request. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
/** The connection ended before any answer: the request may or may not have been handled. */
const CLOSED_EARLY = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Proxies `req` to a backend of `route`; settles when the response is done or failed. */
export async function proxyHttp(
  ctx: ProxyContext,
  exchange: { req: IncomingMessage; res: ServerResponse; route: AppRoute; listenPort: number },
): Promise<void> {
  const { req, res } = exchange;
  let route: AppRoute | undefined = exchange.route;
  const appId = route.appId;
  const method = req.method ?? 'GET';
  const withBody = hasBody(req);
  const retryClosed = IDEMPOTENT.has(method) && !withBody;
  const headers = upstreamRequestHeaders(req.headers, {
    address: clientAddress(req.socket.remoteAddress),
    host: req.headers.host ?? '',
    port: exchange.listenPort,
  });
  const tried = new Set<string>();

  for (let attempt = 1; ; attempt += 1) {
    if (route && route.backends.length === 0) route = await ctx.awaitBackends(route);
    const backend: Backend | undefined = route && ctx.pools.pick(route.backends, tried);
    if (!backend) {
      ctx.metrics.countRequest(appId, 503);
      return answer(res, 503, 'No backend is available for this app\n');
    }
    tried.add(backend.key);
    const done = ctx.pools.track(backend.key);
    const started = performance.now();
    const outcome = await sendUpstream(
      ctx.pools.poolOf(backend),
      {
        path: req.url ?? '/',
        method: method as Dispatcher.HttpMethod,
        headers,
        body: withBody ? req : null,
        headersTimeout: ctx.upstreamTimeoutMs,
        bodyTimeout: ctx.upstreamTimeoutMs,
        // Only TLS uses it (the pools speak plain HTTP); given, undici skips deriving one from
        // the Host header per request with net.isIP, whose IPv6 pattern cost ~4 % of the CPU.
        servername: backend.host,
      } as Dispatcher.DispatchOptions,
      {
        res,
        onHeaders(statusCode) {
          ctx.metrics.observeUpstream(appId, (performance.now() - started) / 1000);
          ctx.metrics.countRequest(appId, statusCode);
        },
      },
    ).finally(done);
    const { error } = outcome;
    if (!error) return;
    if (outcome.isResponding || (error as { code?: string }).code === 'CLIENT_GONE') {
      // Cut short once answering: the client sees a truncated response, as from the backend.
      ctx.logger.debug({ appId, backend: backend.key, err: error }, 'response cut short');
      return void res.destroy();
    }
    const code = (error as { code?: string }).code ?? '';
    const notSent = NOT_SENT.has(code);
    if (notSent) ctx.pools.eject(backend.key, ctx.ejectMs);
    const mayRetry = (notSent && !withBody) || (CLOSED_EARLY.has(code) && retryClosed);
    if (mayRetry && attempt < ctx.maxAttempts) {
      ctx.metrics.countRetry(appId);
      ctx.logger.debug({ appId, backend: backend.key, code }, 'trying another backend');
      continue;
    }
    const status = code === 'UND_ERR_HEADERS_TIMEOUT' ? 504 : 502;
    ctx.metrics.countRequest(appId, status);
    ctx.logger.info({ appId, backend: backend.key, code, status }, 'backend failed the request');
    return answer(
      res,
      status,
      status === 504 ? 'The backend did not answer in time\n' : 'The backend failed\n',
    );
  }
}
