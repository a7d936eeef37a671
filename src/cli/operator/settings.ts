// Where the operator CLI finds its master and credentials: flags first, then the environment
// (`PACER_URL`, `PACER_TOKEN`, `PACER_CA_FILE`), then the config file (`$PACER_CONFIG`, or
// `$XDG_CONFIG_HOME/pacer/config.json`, or `~/.config/pacer/config.json`, holding
// `{"url": …, "token": …, "ca": …}`), then `http://127.0.0.1:8080` without a token.
import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../config.js';

export interface OperatorSettings {
  url: string;
  token?: string;
  /** CA bundle verifying the master's HTTPS (`--ca`); the system's CAs without it. */
  ca?: string;
  json: boolean;
  /** Set once the CA is loaded (operator/run.ts): every request verifies against it. */
  dispatcher?: Dispatcher;
}

/** The config file's path for `env`. */
export function configFileOf(env: NodeJS.ProcessEnv): string {
  if (env.PACER_CONFIG) return env.PACER_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'pacer', 'config.json');
}

function readConfigFile(file: string): { url?: string; token?: string; ca?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    const { url, token, ca } = parsed as Record<string, unknown>;
    return {
      ...(typeof url === 'string' ? { url } : {}),
      ...(typeof token === 'string' ? { token } : {}),
      ...(typeof ca === 'string' ? { ca } : {}),
    };
  } catch (error) {
    throw new ConfigError(
      `${file} must be JSON like {"url": "...", "token": "..."}: ${(error as Error).message}`,
    );
  }
}

export function operatorSettings(
  flags: { master?: string; token?: string; ca?: string; json?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): OperatorSettings {
  const file = readConfigFile(configFileOf(env));
  const url = flags.master ?? env.PACER_URL ?? file.url ?? 'http://127.0.0.1:8080';
  try {
    new URL(url);
  } catch {
    throw new ConfigError(`The master URL '${url}' is not a URL`);
  }
  const token = flags.token ?? env.PACER_TOKEN ?? file.token;
  const ca = flags.ca ?? env.PACER_CA_FILE ?? file.ca;
  return {
    url: url.replace(/\/+$/, ''),
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    json: flags.json === true,
  };
}
