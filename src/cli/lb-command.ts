// `pacer lb --port <n> [--group external] [--master <url>] [--host <addr>]`: the balancer
// (src/lb/). The master comes from --master, $PACER_MASTER_URL, then the operator settings
// ($PACER_URL, the config file); the credential from --token, $PACER_TOKEN or the config file
// (`view` on the routed apps is enough); an HTTPS master is verified against --ca.
import { ConfigError } from '../config.js';
import { createLogger } from '../lib/index.js';
import { loadTlsClient } from '../lib/tls-client.js';
import { startBalancer } from '../lb/index.js';
import { operatorSettings } from './operator/settings.js';

export interface LbFlags {
  port?: string;
  host?: string;
  group?: string;
  master?: string;
  token?: string;
  ca?: string;
}

function portOf(raw: string | undefined): number {
  if (raw === undefined) throw new ConfigError('pacer lb needs --port <n> (the vhost listener)');
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535)
    throw new ConfigError(`--port '${raw}' is not a port number`);
  return Number(raw);
}

/** Starts the balancer; it runs until SIGINT/SIGTERM. */
export async function runLb(
  flags: LbFlags,
  env: NodeJS.ProcessEnv,
): Promise<{ stop(): Promise<void> }> {
  const port = portOf(flags.port);
  const group = flags.group ?? 'external';
  if (group.length === 0 || group.length > 256 || group.includes(','))
    throw new ConfigError(`--group '${group.slice(0, 80)}' must be one group name (or '*')`);
  const settings = operatorSettings(
    {
      ...((flags.master ?? env.PACER_MASTER_URL)
        ? { master: flags.master ?? env.PACER_MASTER_URL }
        : {}),
      ...(flags.token ? { token: flags.token } : {}),
      ...(flags.ca ? { ca: flags.ca } : {}),
    },
    env,
  );
  let dispatcher;
  if (settings.ca) {
    try {
      dispatcher = (await loadTlsClient(settings.ca)).dispatcher;
    } catch (error) {
      throw new ConfigError(`--ca ${settings.ca}: ${(error as Error).message}`);
    }
  }
  const logger = createLogger({ name: 'lb' });
  const balancer = await startBalancer({
    master: {
      url: settings.url,
      ...(settings.token ? { token: settings.token } : {}),
      ...(dispatcher ? { dispatcher } : {}),
    },
    logger,
    port,
    host: flags.host ?? env.PACER_HOST ?? '0.0.0.0',
    group,
  });
  logger.info(
    { port: balancer.port, group, master: settings.url },
    `pacer lb is ready: status at http://127.0.0.1:${balancer.port}/_pacer/lb/status`,
  );
  return balancer;
}
