// The balancer's two requests to the master: the apps with their tasks (a snapshot) and the
// event stream. Only reads: a credential with `view` on the apps it routes is enough.
import type { Dispatcher } from 'undici';
import { parseAppsAnswer, type AppSnapshot } from './app-snapshot.js';

export interface MasterConnection {
  /** Base URL, without a trailing slash. */
  url: string;
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  /** Verifies an HTTPS master against `--ca`. */
  dispatcher?: Dispatcher;
}

/** Snapshots bigger than this are refused rather than buffered (a broken or hostile master). */
const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

export function authHeaders(master: MasterConnection): Record<string, string> {
  return master.token ? { authorization: `Bearer ${master.token}` } : {};
}

/** `GET /v2/apps?embed=apps.tasks&embed=apps.readiness`, parsed. Throws on a refusal. */
export async function fetchApps(
  master: MasterConnection,
  signal?: AbortSignal,
): Promise<AppSnapshot[]> {
  const response = await fetch(`${master.url}/v2/apps?embed=apps.tasks&embed=apps.readiness`, {
    headers: { accept: 'application/json', ...authHeaders(master) },
    ...(signal ? { signal } : {}),
    ...(master.dispatcher ? { dispatcher: master.dispatcher } : {}),
  });
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_SNAPSHOT_BYTES) throw new Error(`the apps answer is ${length} bytes, too big`);
  const text = await response.text();
  if (!response.ok) {
    throw new Error(
      `the master answered ${response.status} to GET /v2/apps: ${text.slice(0, 300)}`,
    );
  }
  return parseAppsAnswer(JSON.parse(text));
}
