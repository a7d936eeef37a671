// Serves a Hono app over Node's HTTP server; resolves once it listens.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface HttpServer {
  /** Actual port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export function startHttpServer(options: { app: Hono; port: number; host: string }): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: options.app.fetch, port: options.port, hostname: options.host }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            // SSE streams never end by themselves: cut open connections so close() returns.
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    server.once('error', reject);
  });
}
