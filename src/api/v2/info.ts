// /v2/info, /v2/leader and /ping: who this master is and who leads (InfoResource, LeaderResource,
// SystemResource).
import { Hono } from 'hono';
import type { ApiDeps } from '../deps.js';

const DEFAULT_FRAMEWORK_ID = 'pacer-0000';

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
      elected: true,
      leader: info.leaderHostPort,
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

  routes.get('/v2/leader', (c) => c.json({ leader: info.leaderHostPort }));

  return routes;
}
