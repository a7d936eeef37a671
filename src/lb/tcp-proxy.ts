// A TCP listener for an app in `HAPROXY_0_MODE: tcp`: each client connection is joined to one
// backend connection. A backend that refuses is skipped for the next one (nothing was sent yet);
// idle connections are closed so a silent client cannot hold a slot forever.
import net from 'node:net';
import type { Logger } from '../lib/index.js';
import type { BackendPools } from './backend-pools.js';
import type { AppRoute } from './route-table.js';

export interface TcpProxyOptions {
  pools: BackendPools;
  logger: Logger;
  /** The route now (the table changes under a live listener). */
  route(): AppRoute | undefined;
  idleTimeoutMs: number;
  maxConnections: number;
  maxAttempts: number;
  ejectMs: number;
}

export function createTcpProxy(options: TcpProxyOptions): net.Server {
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    const tried = new Set<string>();
    client.setTimeout(options.idleTimeoutMs, () => client.destroy());
    client.on('error', () => client.destroy());
    const attempt = (): void => {
      const route = options.route();
      const backend = route && options.pools.pick(route.backends, tried);
      if (!backend || tried.size >= options.maxAttempts) return void client.destroy();
      tried.add(backend.key);
      const done = options.pools.track(backend.key);
      const upstream = net.connect({ host: backend.host, port: backend.port });
      let isConnected = false;
      upstream.setTimeout(options.idleTimeoutMs, () => upstream.destroy());
      upstream.once('connect', () => {
        isConnected = true;
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once('close', () => {
        done();
        if (!isConnected && !client.destroyed) {
          options.pools.eject(backend.key, options.ejectMs);
          attempt();
        } else client.destroy();
      });
      upstream.on('error', (error) =>
        options.logger.debug({ backend: backend.key, err: error }, 'tcp backend connection failed'),
      );
      client.once('close', () => upstream.destroy());
    };
    attempt();
  });
  server.maxConnections = options.maxConnections;
  return server;
}
