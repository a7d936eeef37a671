// createApi: the master's HTTP edge. Mounts the v2 routers in match order, adds Marathon's
// leader header and body limits, and answers every error from the one table in errors.ts.
import type { ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { PatternRouter } from 'hono/router/pattern-router';
import type { ApiDeps, RouteDeps } from './deps.js';
import { authenticateRequests } from './auth/index.js';
import type { Dispatch } from './auth/index.js';
import { createReadModel } from './read-model.js';
import { createServicePortAssigner, withServicePorts } from './service-ports.js';
import { systemClock } from '../lib/index.js';
import { ApiError, ApiErrorCode, respondToError } from './errors.js';
import { WRITE_METHODS, limitBodies } from './body-limits.js';
import { leaderProxy } from './leader-proxy.js';
import { createHotReads } from './hot-reads.js';
import { PathMemo } from './path-memo.js';
import { PrefixRouter } from './prefix-router.js';
import { routingPath, routingPathOf } from './request.js';
import type { RoutedEnv } from './request.js';
import { aclTokensRoutes } from './v2/acl-tokens.js';
import { aclAgentRoutes } from './v2/acl-agents.js';
import { agentsRoutes } from './v2/agents.js';
import { appTasksRoutes } from './v2/app-tasks.js';
import { appVersionsRoutes } from './v2/app-versions.js';
import { appsRoutes } from './v2/apps.js';
import { artifactsRoutes } from './v2/artifacts.js';
import { rolesRoutes } from './v2/roles.js';
import { secretsRoutes } from './v2/secrets.js';
import { deploymentsRoutes } from './v2/deployments.js';
import { eventsRoutes } from './v2/events.js';
import { groupsRoutes } from './v2/groups.js';
import { infoRoutes } from './v2/info.js';
import { podsRoutes } from './v2/pods.js';
import { queueRoutes } from './v2/queue.js';
import { createRequestMetrics, metricsRoutes } from './metrics.js';
import type { RequestMetrics } from './metrics.js';
import { logsRoutes } from './v2/logs.js';
import { tasksRoutes } from './v2/tasks.js';
import { openApiRoutes } from './openapi/routes.js';
import { uiRoutes } from './ui-routes.js';
import { buildOpenApiDocument } from './openapi/document.js';

/** Default time reads may share one snapshot of the store (writes and events end it early). */
export const DEFAULT_READ_CACHE_MS = 1000;
export { DEFAULT_MAX_ARTIFACT_BYTES, DEFAULT_MAX_BODY_BYTES } from './body-limits.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Builds the HTTP API. Paths are matched after collapsing doubled slashes; app ids are greedy
 * (`{id:.+}`), so sub-resource routes are mounted before the bare app routes.
 */
export function createApi(apiDeps: ApiDeps): Hono {
  const app = new Hono({
    router: new PrefixRouter(),
    getPath: (request, options) => routingPathOf(request, options?.env),
  });
  const reads = createReadModel({
    store: apiDeps.store,
    live: apiDeps.live,
    events: apiDeps.events,
    clock: apiDeps.clock ?? systemClock,
    logger: apiDeps.logger,
    ttlMs: apiDeps.readCacheMs ?? DEFAULT_READ_CACHE_MS,
  });
  // Every app a change creates or replaces gets its service ports before it is stored.
  const assignServicePorts = createServicePortAssigner({ reads, live: apiDeps.live });
  const orchestrator = withServicePorts(apiDeps.orchestrator, assignServicePorts);
  // Repeated reads of one app skip Hono (hot-reads.ts).
  const hotReads = createHotReads(reads);
  const deps: RouteDeps = { ...apiDeps, orchestrator, reads, assignServicePorts, hotReads };
  const ownUrl = `http://${deps.info.leaderHostPort}`;

  const requests = createRequestMetrics();
  // Reads skip these: the hot path of GET /v2/apps/{id} stays short.
  app.on(WRITE_METHODS, '*', limitBodies(deps));
  // Every change through the API ends the shared read snapshot: clients read their own writes.
  app.on(WRITE_METHODS, '*', async (_c, next) => {
    try {
      await next();
    } finally {
      reads.invalidate();
    }
  });

  const routers = [
    infoRoutes(deps),
    eventsRoutes(deps),
    metricsRoutes(deps, requests),
    openApiRoutes({
      document: () => JSON.stringify(buildOpenApiDocument({ version: deps.info.version })),
    }),
    uiRoutes(),
    artifactsRoutes(deps),
    secretsRoutes(deps),
    rolesRoutes(deps),
    agentsRoutes(deps),
    aclTokensRoutes(deps),
    aclAgentRoutes(deps),
    logsRoutes(deps),
    tasksRoutes(deps),
    deploymentsRoutes(deps),
    appTasksRoutes(deps),
    appVersionsRoutes(deps),
    appsRoutes(deps),
    groupsRoutes(deps),
    queueRoutes(deps),
    podsRoutes(),
  ];
  for (const router of routers) app.route('/', router);

  // A router of the real routes only, to tell "wrong method" (405) from "no such path".
  const known = new PatternRouter<string>();
  for (const route of app.routes) {
    const isMiddleware = route.method === 'ALL' || route.path === '*' || route.path === '/*';
    if (!isMiddleware) known.add(route.method, route.path, route.path);
  }

  app.notFound((c) => {
    const path = c.req.path;
    const isKnownPath = METHODS.some(
      (m) => m !== c.req.method && known.match(m, path)[0].length > 0,
    );
    const error = isKnownPath
      ? new ApiError(ApiErrorCode.METHOD_NOT_ALLOWED, 'HTTP 405 Method Not Allowed')
      : new ApiError(ApiErrorCode.URI_NOT_FOUND, 'URI not found');
    return respondToError({ error, c, logger: deps.logger });
  });
  app.onError((error, c) => respondToError({ error, c, logger: deps.logger }));
  // The order of a request: authenticate, then relay to the leader (a follower) or route here.
  // A follower authenticates too, before it relays or redirects: it answers a caller without
  // credentials as the leader does (401), and never buffers and forwards a body or opens a
  // connection to the leader for one. (`X-Marathon-Leader` still names the leader on every
  // answer, as Marathon's does.) The relay forwards the credentials, so the leader
  // authenticates again and authorizes (403) as for a request of its own.
  const routed = app.fetch;
  const route: Dispatch = (request, env) => hotReads.answer(request, env) ?? routed(request, env);
  const proxy = deps.leadership ? leaderProxy({ ...deps, leadership: deps.leadership }) : undefined;
  const relayOrRoute: Dispatch = proxy
    ? (request, env) => proxy(request, env) ?? route(request, env)
    : route;
  const dispatch = deps.auth
    ? authenticateRequests(deps.auth, { logger: deps.logger, dispatch: relayOrRoute })
    : relayOrRoute;
  const { metrics } = deps;
  return withEdge(app, {
    dispatch,
    leaderUrl: deps.leadership ? () => deps.leadership?.leaderUrl() : () => ownUrl,
    requests: metrics ? routeMetrics(metrics, known) : requests,
  });
}

/** The method label of a request: one of `METHODS`, else `OTHER`. */
const METHOD_LABELS = new Set<string>(METHODS);

type RequestRecorder = ReturnType<NonNullable<ApiDeps['metrics']>['requestRecorder']>;

/**
 * Request metrics by route template: the request's path matched against the real routes (the
 * Hono pattern, e.g. `/v2/apps/:id{.+}`), `unmatched` for anything else, so no client can add
 * series by asking for new paths. The recorder of a path is remembered: a request then costs
 * two map lookups and the recorder's own few additions.
 */
function routeMetrics(
  metrics: NonNullable<ApiDeps['metrics']>,
  known: PatternRouter<string>,
): Pick<RequestMetrics, 'record'> & { recordRequest: RecordRequest } {
  const remembered = new PathMemo<RequestRecorder>();
  function recorderOf(method: string, path: string): RequestRecorder {
    const recorder = remembered.get(method, path);
    if (recorder) return recorder;
    const [matches] = known.match(method === 'HEAD' ? 'GET' : method, path);
    const created = metrics.requestRecorder(matches[0]?.[0] ?? 'unmatched', method);
    return remembered.remember(method, path, created);
  }
  return {
    record: () => undefined,
    recordRequest({ method, path }, status, ms) {
      recorderOf(METHOD_LABELS.has(method) ? method : 'OTHER', path)(status, ms / 1000);
    },
  };
}

type RecordRequest = (asked: { method: string; path: string }, status: number, ms: number) => void;

/**
 * What every answer needs (Marathon's leader header, request metrics), done around the app's
 * `fetch` rather than as a middleware: a route with one handler is then dispatched by Hono
 * without composing a chain, and one that answers from memory (GET /v2/apps/{id}) does so in the
 * request's own turn of the event loop, as a hello-world does. `dispatch` is the rest of the
 * edge (authentication, a follower's relay) around the app's own `fetch`.
 */
function withEdge(
  app: Hono,
  options: {
    dispatch: Dispatch;
    leaderUrl: () => string | undefined;
    requests: Pick<RequestMetrics, 'record'> & { recordRequest?: RecordRequest };
  },
): Hono {
  const { dispatch, leaderUrl, requests } = options;
  /** Counts the answer; adds the leader header to a Response not served by Node (tests). */
  function finish(
    response: Response,
    asked: { method: string; path: string; start: number; leader?: string },
  ) {
    if (asked.leader !== undefined) response.headers.set('X-Marathon-Leader', asked.leader);
    const ms = performance.now() - asked.start;
    if (requests.recordRequest) requests.recordRequest(asked, response.status, ms);
    else requests.record(asked.method, response.status, ms);
    return response;
  }
  app.fetch = (request, env) => {
    const start = performance.now();
    const leader = leaderUrl();
    const node = env as (RoutedEnv & { outgoing?: ServerResponse }) | undefined;
    const outgoing = node?.outgoing;
    const path = routingPath(request);
    // Node makes a fresh env per request: the path goes on it for the router and the routes.
    if (outgoing) node.routingPath = path;
    // Served by Node: set on Node's response, which merges it when the head is written. A
    // header set on a Response built by Hono costs every answer a WHATWG Headers object.
    if (leader !== undefined && outgoing) outgoing.setHeader('X-Marathon-Leader', leader);
    const asked = { method: request.method, path, start, leader: outgoing ? undefined : leader };
    const answer = dispatch(request, env);
    if (!(answer instanceof Promise)) return finish(answer, asked);
    return answer.then((response) => finish(response, asked));
  };
  return app;
}
