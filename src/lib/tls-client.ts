// Verifying TLS clients from one CA file (`--ca`): an https.Agent for node:https (the agent's
// artifact fetcher) and an undici dispatcher for fetch (a follower's relay to the leader).
// Not in lib/index.ts: importing it loads undici, so only roles given `--ca` do (dynamically).
import { readFile } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { Agent as UndiciAgent } from 'undici';
import type { Dispatcher } from 'undici';

/** Clients that trust the CA certificates of one PEM file (and nothing else). */
export interface TlsClient {
  /** The PEM bundle, for clients configured with `ca` (ioredis `tls: { ca }`). */
  ca: Buffer;
  /** For node:https requests: verifies the server against `ca`, host name included. */
  httpsAgent: HttpsAgent;
  /** For `fetch(url, { dispatcher })`: the same verification. */
  dispatcher: Dispatcher;
}

/** Reads `caFile` (PEM) and builds the clients; a missing or empty file fails loudly. */
export async function loadTlsClient(caFile: string): Promise<TlsClient> {
  const ca = await readFile(caFile);
  if (!ca.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${caFile} holds no PEM certificate`);
  }
  return {
    ca,
    httpsAgent: new HttpsAgent({ ca, keepAlive: true }),
    dispatcher: new UndiciAgent({ connect: { ca } }),
  };
}
