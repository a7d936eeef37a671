// /v2/info, /v2/leader, /v2/plugins and /ping: who this master is and who leads (InfoResource,
// LeaderResource, PluginsResource, SystemResource).
import { Hono } from 'hono';
import { Action, NotFoundError, UnavailableError } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { defineRoutes, on } from '../route.js';
import { error, json, media } from '../route-docs.js';

/**
 * The Marathon API level Pacer implements (BEHAVIOUR.md describes Marathon's 1.10 line), shown as
 * `/v2/info` `version`: clients gate features on it as a Marathon version (one skips its event
 * stream scenario below 0.11.0). Pacer's own version is `buildref`.
 */
export const MARATHON_API_VERSION = '1.10.0';

const DEFAULT_FRAMEWORK_ID = 'pacer-0000';

/** `host:port` of the current leader; this master's own without leader election. */
export function leaderHostPort(deps: ApiDeps): string | undefined {
  if (!deps.leadership) return deps.info.leaderHostPort;
  const url = deps.leadership.leaderUrl();
  return url === undefined ? undefined : new URL(url).host;
}

/** The operations of `/ping`, `/v2/info`, `/v2/leader`, `/v2/plugins`. */
export const INFO_ROUTES = defineRoutes({
  ping: {
    method: 'get',
    path: '/ping',
    operationId: 'ping',
    summary: 'Liveness',
    tag: 'info',
    isOpen: true,
    answers: { '200': media('`pong`', 'text/plain') },
  },
  getInfo: {
    method: 'get',
    path: '/v2/info',
    operationId: 'getInfo',
    summary: 'Build and configuration facts',
    description:
      "`version` is the Marathon API level Pacer implements; `buildref` is Pacer's own version.",
    tag: 'info',
    answers: { '200': json('The facts.', 'Info') },
  },
  getLeader: {
    method: 'get',
    path: '/v2/leader',
    operationId: 'getLeader',
    summary: 'The current leader',
    tag: 'info',
    answers: { '200': json('The leader.', 'Leader'), '404': error('There is no leader.') },
  },
  abdicate: {
    method: 'delete',
    path: '/v2/leader',
    operationId: 'abdicate',
    summary: 'Give up leadership',
    tag: 'info',
    answers: {
      '200': json('`{"message":"Leadership abdicated"}`', 'Message'),
      '503': error('This master runs without leader election.'),
    },
  },
  listPlugins: {
    method: 'get',
    path: '/v2/plugins',
    operationId: 'listPlugins',
    summary: 'Loaded Marathon plugins: always none',
    tag: 'info',
    answers: { '200': json('`{"plugins":[]}`', 'PluginList') },
  },
});

/** Routes of `/ping`, `/v2/info`, `/v2/leader`, `/v2/plugins`. */
export function infoRoutes(deps: ApiDeps): Hono {
  const { info } = deps;
  const routes = new Hono();
  const [hostname = 'localhost', port = '8080'] = info.leaderHostPort.split(/:(?=\d+$)/);

  on(routes, INFO_ROUTES.ping, (c) => {
    c.header('Cache-Control', 'must-revalidate,no-cache,no-store');
    return c.text('pong');
  });

  on(routes, INFO_ROUTES.getInfo, (c) =>
    c.json({
      name: 'pacer',
      version: MARATHON_API_VERSION,
      buildref: info.version,
      elected: deps.leadership?.isLeader() ?? true,
      leader: leaderHostPort(deps) ?? '',
      frameworkId: info.frameworkId ?? DEFAULT_FRAMEWORK_ID,
      marathon_config: {
        checkpoint: true,
        executor: '//cmd',
        features: [],
        framework_name: 'pacer',
        ha: true,
        hostname,
        mesos_role: '*',
        webui_url: `${info.publicUrl.replace(/\/+$/, '')}/ui`,
      },
      zookeeper_config: {},
      http_config: { http_port: Number(port) },
    }),
  );

  on(routes, INFO_ROUTES.getLeader, (c) => {
    const leader = leaderHostPort(deps);
    if (!leader) throw new NotFoundError('There is no leader');
    return c.json({ leader });
  });

  on(routes, INFO_ROUTES.abdicate, async (c) => {
    authorize(c, Action.ADMIN);
    if (!deps.leadership) {
      throw new UnavailableError('This master runs without leader election and cannot abdicate');
    }
    await deps.leadership.abdicate();
    return c.json({ message: 'Leadership abdicated' });
  });

  on(routes, INFO_ROUTES.listPlugins, (c) => c.json({ plugins: [] }));

  return routes;
}
