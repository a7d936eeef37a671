// Mesos' fetcher for Pacer: downloads each `fetch` URI into the task's sandbox, through a cache
// shared by all tasks and keyed by digest, verifying URIs that name a `sha256:<hex>` digest.
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Agent as HttpsAgent } from 'node:https';
import path from 'node:path';
import type { FetchUri } from '../domain/index.js';

export class FetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchError';
  }
}

export interface Fetcher {
  /** Places every URI's file in `sandboxDir` under the last segment of its URI. */
  fetchAll(uris: FetchUri[], sandboxDir: string): Promise<void>;
}

const DIGEST_SEGMENT = /(?:^|\/)sha256:([0-9a-f]{64})(?:\/|$)/;

/** The digest a URI names, e.g. `…/v2/artifacts/sha256:<hex>/hello.wasm` → `<hex>`. */
export function digestOf(uri: string): string | undefined {
  return DIGEST_SEGMENT.exec(new URL(uri, 'http://x').pathname)?.[1];
}

/** As Mesos' fetcher: the file keeps the last segment of its URI as its name. */
export function fileNameOf(uri: string): string {
  const segments = new URL(uri, 'http://x').pathname.split('/').filter(Boolean);
  const last = segments.at(-1);
  if (!last || last === '.' || last === '..')
    throw new FetchError(`Cannot name a file after URI ${uri}`);
  return decodeURIComponent(last).replace(/^sha256:/, 'sha256-');
}

export function createFetcher(options: {
  cacheDir: string;
  /** Base for relative URIs (`/v2/artifacts/…`): the master's URL. */
  masterUrl?: string;
  maxBytes?: number;
  timeoutMs?: number;
  /** Verifies https:// URIs against `--ca` (lib/tls-client); the system CAs when absent. */
  httpsAgent?: HttpsAgent;
}): Fetcher {
  const { cacheDir } = options;
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 60_000;
  /** One download per digest at a time; concurrent tasks wait for the same promise. */
  const inFlight = new Map<string, Promise<string>>();
  let cacheDirReady: Promise<unknown> | undefined;

  async function download(uri: string): Promise<Buffer> {
    const url = new URL(uri, options.masterUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FetchError(`Unsupported URI scheme ${url.protocol} in ${uri}`);
    }
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const { httpsAgent } = options;
      return await get(url, { uri, maxBytes, signal, redirectsLeft: MAX_REDIRECTS, httpsAgent });
    } catch (error) {
      if (error instanceof FetchError) throw error;
      throw new FetchError(`Could not download ${uri}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Downloads into the cache (verifying a named digest); returns the cached file's path. */
  async function cached(uri: string): Promise<string> {
    const expected = digestOf(uri);
    if (expected) {
      const file = path.join(cacheDir, `sha256-${expected}`);
      if (await exists(file)) return file;
    }
    const bytes = await download(uri);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (expected && actual !== expected) {
      throw new FetchError(`Digest mismatch for ${uri}: got sha256:${actual}`);
    }
    const file = path.join(cacheDir, `sha256-${actual}`);
    const partial = `${file}.${randomUUID()}.part`;
    await writeFile(partial, bytes);
    await rename(partial, file);
    return file;
  }

  return {
    async fetchAll(uris, sandboxDir) {
      // Once per fetcher, not once per task (a failure is retried by the next task).
      cacheDirReady ??= mkdir(cacheDir, { recursive: true }).catch((error: unknown) => {
        cacheDirReady = undefined;
        throw error;
      });
      await cacheDirReady;
      for (const fetchUri of uris) {
        const key = digestOf(fetchUri.uri) ?? fetchUri.uri;
        let pending = inFlight.get(key);
        if (!pending) {
          pending = cached(fetchUri.uri).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        const source = await pending;
        const target = path.join(sandboxDir, fetchUri.destPath ?? fileNameOf(fetchUri.uri));
        if (!target.startsWith(path.resolve(sandboxDir) + path.sep)) {
          throw new FetchError(`destPath ${fetchUri.destPath ?? ''} leaves the sandbox`);
        }
        // The task runner made the sandbox itself; only a destPath in a subdirectory needs more.
        if (path.dirname(target) !== path.resolve(sandboxDir))
          await mkdir(path.dirname(target), { recursive: true });
        await rm(target, { force: true });
        // A copy, as Mesos' fetcher makes, never a hard link: a link shares the cache's inode,
        // so a task writing to its own fetched file (a Wasm task may open it read-write) would
        // change the cached artifact under every later task of any app. Where the file system
        // can, the copy is a copy-on-write clone, as cheap as a link.
        await copyFile(source, target, fsConstants.COPYFILE_FICLONE);
        if (fetchUri.executable) await chmod(target, 0o755);
      }
    },
  };
}

/** Redirects followed per download, as a browser's fetch would (it follows 20). */
const MAX_REDIRECTS = 10;

/**
 * One download with node:http, not the global fetch: fetch's HTTP parser is Wasm (undici's
 * llhttp), and under the Wasm driver's process-wide --no-liftoff its first use cost the agent
 * half a second of optimizing compiles on the launch path (profiled).
 */
async function get(
  url: URL,
  context: {
    uri: string;
    maxBytes: number;
    signal: AbortSignal;
    redirectsLeft: number;
    httpsAgent?: HttpsAgent;
  },
): Promise<Buffer> {
  const { uri, maxBytes, signal } = context;
  const isHttps = url.protocol === 'https:';
  const request = isHttps ? httpsRequest : httpRequest;
  const agent = isHttps ? context.httpsAgent : undefined;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = request(url, { signal, ...(agent ? { agent } : {}) }, resolve);
    outgoing.once('error', reject);
    outgoing.end();
  });
  const status = response.statusCode ?? 0;
  const location = response.headers.location;
  if (status >= 300 && status < 400 && location !== undefined) {
    response.resume();
    if (context.redirectsLeft <= 0) throw new FetchError(`Too many redirects for ${uri}`);
    return get(new URL(location, url), { ...context, redirectsLeft: context.redirectsLeft - 1 });
  }
  if (status < 200 || status >= 300) {
    response.resume();
    throw new FetchError(`Could not download ${uri}: HTTP ${status}`);
  }
  const declared = Number(response.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    response.destroy();
    throw new FetchError(`${uri} is ${declared} bytes, over the ${maxBytes} byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      response.destroy();
      throw new FetchError(`${uri} is over the ${maxBytes} byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
