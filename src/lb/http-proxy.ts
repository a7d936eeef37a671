// Sends one HTTP request to a backend of its route and streams the answer back. A connection
// the backend refuses is tried on another backend (nothing was sent); a connection that closes
// before any answer is tried again only for an idempotent request without a body (RFC 9110
// 9.2.2). No answer in time is a 504, no backend a 503, a broken backend a 502.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/index.js';
import type { BackendPools } from './backend-pools.js';
import { clientAddress, upstreamRequest } from './forwarded-headers.js';
import type { LbMetrics } from './metrics.js';
import type { AppRoute, Backend } from './route-table.js';
import { sendUpstream, type ExchangeOutcome } from './send-upstream.js';
import { UpstreamError } from './upstream-connection.js';

export interface ProxyContext {
  pools: BackendPools;
  metrics: LbMetrics;
  logger: Logger;
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
/** Failures before a byte reached the backend: safe to try elsewhere for any request. */
const NOT_SENT = new Set<string>([
  UpstreamError.connectFailed,
  UpstreamError.connectTimeout,
  UpstreamError.poolClosed,
]);

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
  const request = upstreamRequest(req, {
    address: clientAddress(req.socket.remoteAddress),
    port: exchange.listenPort,
  });
  const withBody = request.body !== null;
  const retryClosed = IDEMPOTENT.has(req.method ?? 'GET') && !withBody;
  let tried: Set<string> | undefined;

  for (let attempt = 1; ; attempt += 1) {
    if (route && route.backends.length === 0) route = await ctx.awaitBackends(route);
    const backend: Backend | undefined = route && ctx.pools.pick(route.backends, tried);
    if (!backend) {
      ctx.metrics.countRequest(appId, 503);
      return answer(res, 503, 'No backend is available for this app\n');
    }
    const done = ctx.pools.track(backend.key);
    const started = performance.now();
    let outcome: ExchangeOutcome;
    try {
      outcome = await sendUpstream(ctx.pools.poolOf(backend), request, {
        res,
        onHeaders(statusCode) {
          ctx.metrics.observeUpstream(appId, (performance.now() - started) / 1000);
          ctx.metrics.countRequest(appId, statusCode);
        },
      });
    } finally {
      done();
    }
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
    const mayRetry = (notSent && !withBody) || (code === UpstreamError.closedEarly && retryClosed);
    if (mayRetry && attempt < ctx.maxAttempts) {
      (tried ??= new Set()).add(backend.key);
      ctx.metrics.countRetry(appId);
      ctx.logger.debug({ appId, backend: backend.key, code }, 'trying another backend');
      continue;
    }
    const status = code === UpstreamError.headersTimeout ? 504 : 502;
    ctx.metrics.countRequest(appId, status);
    ctx.logger.info({ appId, backend: backend.key, code, status }, 'backend failed the request');
    return answer(
      res,
      status,
      status === 504 ? 'The backend did not answer in time\n' : 'The backend failed\n',
    );
  }
}
