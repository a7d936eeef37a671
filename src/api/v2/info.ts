// /v2/info, /v2/leader and /ping: who this master is and who leads (InfoResource, LeaderResource,
// SystemResource).
import { Hono } from 'hono';
import { Action, NotFoundError, UnavailableError } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';

const DEFAULT_FRAMEWORK_ID = 'pacer-0000';

/** `host:port` of the current leader; this master's own without leader election. */
export function leaderHostPort(deps: ApiDeps): string | undefined {
  if (!deps.leadership) return deps.info.leaderHostPort;
  const url = deps.leadership.leaderUrl();
  return url === undefined ? undefined : new URL(url).host;
}

/** Routes of `/ping`, `/v2/info`, `/v2/leader`. */
export function infoRoutes(deps: ApiDeps): Hono {
  const { info } = deps;
  const routes = new Hono();
  const [hostname = 'localhost', port = '8080'] = info.leaderHostPort.split(/:(?=\d+$)/);

  routes.get('/ping', (c) => {
    c.header('Cache-Control', 'must-revalidate,no-cache,no-store');
    return c.text('pong');
  });

  routes.get('/v2/info', (c) =>
    c.json({
      name: 'pacer',
      version: info.version,
      buildref: 'unknown',
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
        webui_url: info.publicUrl,
      },
      zookeeper_config: {},
      http_config: { http_port: Number(port) },
    }),
  );

  routes.get('/v2/leader', (c) => {
    const leader = leaderHostPort(deps);
    if (!leader) throw new NotFoundError('There is no leader');
    return c.json({ leader });
  });

  routes.delete('/v2/leader', async (c) => {
    authorize(c, Action.ADMIN);
    if (!deps.leadership) {
      throw new UnavailableError('This master runs without leader election and cannot abdicate');
    }
    await deps.leadership.abdicate();
    return c.json({ message: 'Leadership abdicated' });
  });

  return routes;
}
