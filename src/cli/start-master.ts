// The master role with its HTTP edge: builds the master (master/main.ts) and serves the API
// (api/) over its services. The one place that imports both, so neither imports the other.
import type { Dispatcher } from 'undici';
import type { ApiDeps, TlsFiles } from '../api/index.js';
import {
  bootstrapPrincipal,
  createApi,
  createAuthenticator,
  startHttpServer,
} from '../api/index.js';
import { toAppJson } from '../api/v2/wire/app-json.js';
import { toGroupInfo } from '../api/v2/wire/group-json.js';
import type { AuthConfig } from '../config.js';
import { toTimestamp } from '../domain/index.js';
import { createMaster } from '../master/main.js';
import type { Master, MasterOptions as MasterCoreOptions } from '../master/main.js';

export interface MasterOptions extends MasterCoreOptions {
  port: number;
  host: string;
  /** Pacer's version, shown by `/v2/info` (`buildref`). */
  version: string;
  /** Authentication (on with a bootstrap token); absent or without a token: off. */
  auth?: AuthConfig;
  /** Serve HTTPS with these PEM files. */
  tls?: TlsFiles;
  /** Verifies the leader's HTTPS when this master follows (`--ca`). */
  relayDispatcher?: Dispatcher;
}

export interface RunningMaster {
  /** The port the HTTP API listens on. */
  port: number;
  /** Messages dropped from agents, by agent and reason (also at `/metrics`). */
  trust: Pick<Master['trust'], 'dropped'>;
  stop(): Promise<void>;
}

export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const { logger, clock } = options;
  const master = createMaster({
    ...options,
    // Deployment events carry the root group before and after, as `GET /v2/groups` shows it.
    renderRootGroup: (apps) =>
      toGroupInfo({
        groupId: '/',
        apps,
        embed: { groups: true, apps: true, pods: true },
        appInfo: (app) => ({ ...toAppJson(app) }),
        fallbackVersion: toTimestamp(clock.now()),
      }),
  });
  const auth = await startAuthentication(options);
  const deps: ApiDeps = {
    ...master.services,
    auth,
    logger,
    clock,
    ...(options.relayDispatcher ? { relayDispatcher: options.relayDispatcher } : {}),
    ...(options.secretBox ? { secretBox: options.secretBox } : {}),
    streamCaps: {
      ...(options.limits?.eventStreams ? { eventStreams: options.limits.eventStreams } : {}),
      ...(options.limits?.logFollows ? { logFollows: options.limits.logFollows } : {}),
    },
    ...(options.limits?.artifactQuotaBytes !== undefined
      ? { artifactQuotaBytes: options.limits.artifactQuotaBytes }
      : {}),
    info: {
      version: options.version,
      leaderHostPort: new URL(options.publicUrl).host,
      publicUrl: options.publicUrl,
    },
  };
  const api = createApi(deps);
  // Elect (or learn the leader) before listening: a request must never find no leader at all.
  await master.start();
  const server = await startHttpServer({
    app: api,
    port: options.port,
    host: options.host,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  logger.info({ port: server.port, publicUrl: options.publicUrl }, 'master listening');

  return {
    port: server.port,
    trust: master.trust,
    async stop() {
      await server.close();
      await master.stop();
    },
  };
}

/** Bootstraps and returns the authenticator when a bootstrap token is set; warns when off. */
async function startAuthentication(options: MasterOptions) {
  const { store, clock, logger, auth } = options;
  if (auth?.bootstrapToken === undefined) {
    if (auth?.insecure) {
      logger.warn(
        { host: options.host },
        'INSECURE: authentication is off and the API listens beyond loopback (--insecure): ' +
          'anyone who reaches this port can run code on every agent',
      );
    }
    return undefined;
  }
  await bootstrapPrincipal({ store, secret: auth.bootstrapToken, logger });
  return createAuthenticator({ store, clock });
}
