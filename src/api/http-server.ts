// Serves a Hono app on Node's HTTP server, or HTTPS with a certificate (@hono/node-server), and
// closes it cleanly, cutting long-lived streams (events, log follows) so shutdown does not wait.
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

/** A listening HTTP server. */
export interface RunningHttpServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Stops accepting, closes open connections (streams included) and resolves when closed. */
  close(): Promise<void>;
}

/** PEM files of the server's certificate (chain) and private key. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Listens on `host:port` (port 0 picks a free one) and serves `app`; HTTPS with `tls`. */
export async function startHttpServer(options: {
  app: Hono;
  port: number;
  host?: string;
  tls?: TlsFiles;
}): Promise<RunningHttpServer> {
  const { tls } = options;
  const server = (
    tls
      ? createAdaptorServer({
          fetch: options.app.fetch,
          createServer: createHttpsServer,
          serverOptions: {
            cert: await readFile(tls.certFile),
            key: await readFile(tls.keyFile),
            minVersion: 'TLSv1.2',
          },
        })
      : createAdaptorServer({ fetch: options.app.fetch })
  ) as Server;
  // Keep-alive timeouts shorter than typical client pools avoid resets on reused sockets.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
