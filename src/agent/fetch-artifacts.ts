// Mesos' fetcher for Pacer: downloads each `fetch` URI into the task's sandbox, through a cache
// shared by all tasks and keyed by digest, verifying URIs that name a `sha256:<hex>` digest.
// Fetching is a policy (fetch-policy.ts): streamed to disk under a size cap, to allowed
// addresses only, redirects included. `extract` unpacks .tar, .tar.gz, .tgz and .zip files into
// the sandbox (extract-archive.ts: files and directories only, inside the sandbox, within the
// task's disk); `executable` makes the file executable and, as in Mesos, is never extracted.
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Agent as HttpsAgent } from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FetchUri } from '../domain/index.js';
import type { SandboxFile } from '../runtime/driver.js';
import { fileOf, openArtifactCache, type ArtifactCache } from './artifact-cache.js';
import { ArchiveError, archiveKindOf, extractArchive } from './extract-archive.js';
import { createFetchPolicy, type FetchPolicy } from './fetch-policy.js';

export class FetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchError';
  }
}

export interface Fetcher {
  /**
   * Places every URI's file in `sandboxDir` under the last segment of its URI, unpacking it
   * there when `extract` and the name is an archive's. With `diskMiB` (the task's `disk`, when
   * > 0) the files and what they unpack to together may hold no more than that.
   */
  fetchAll(
    uris: FetchUri[],
    sandboxDir: string,
    options?: { diskMiB?: number },
  ): Promise<FetchedDigests>;
  /**
   * As `fetchAll`, but copies nothing: the files are downloaded into the cache and kept there
   * (pinned) for a driver that makes the sandbox itself (`TaskSpec.sandboxFiles`) until
   * `release` is called (once, when the task has ended). Undefined, with nothing fetched, when a
   * URI is to be unpacked or goes to a subdirectory: those take `fetchAll`.
   */
  stage(
    uris: FetchUri[],
    sandboxDir: string,
    options?: { diskMiB?: number },
  ): Promise<StagedFiles | undefined>;
  /** Bytes in the artifact cache now (0 before the first fetch opened it). */
  cacheBytes(): number;
}

/** What `Fetcher.stage` kept in the cache for a task. */
export interface StagedFiles {
  files: SandboxFile[];
  digests: FetchedDigests;
  /** Lets the cache evict the files again. Call it exactly once. */
  release(): Promise<void>;
}

/**
 * The sha256 (hex) of each file `fetchAll` copied to the top of the sandbox, by file name: what
 * its cache holds under that digest, so a driver need not read and hash the file again. Files in
 * subdirectories, and every file once an archive is unpacked (it may replace one), are left out.
 */
export type FetchedDigests = Record<string, string>;

const DIGEST_SEGMENT = /(?:^|\/)sha256:([0-9a-f]{64})(?:\/|$)/;

/** The digest a URI names, e.g. `…/v2/artifacts/sha256:<hex>/hello.wasm` → `<hex>`. */
export function digestOf(uri: string): string | undefined {
  return DIGEST_SEGMENT.exec(new URL(uri, 'http://x').pathname)?.[1];
}

/** As Mesos' fetcher: the file keeps the last segment of its URI as its name. */
export function artifactFileName(uri: string): string {
  const segments = new URL(uri, 'http://x').pathname.split('/').filter(Boolean);
  const last = segments.at(-1);
  if (!last || last === '.' || last === '..')
    throw new FetchError(`Cannot name a file after URI ${uri}`);
  return decodeURIComponent(last).replace(/^sha256:/, 'sha256-');
}

export interface FetcherOptions {
  cacheDir: string;
  /** Base for relative URIs (`/v2/artifacts/…`): the master's URL, whose origin is always allowed. */
  masterUrl?: string;
  /** Ranges fetched from although private, loopback or link-local (`--allow-fetch-from`). */
  allowFetchFrom?: string[];
  /** Largest single download, and most bytes one archive unpacks to (also when the task has no `disk`). Default 256 MiB. */
  maxBytes?: number;
  /** Most entries one archive may hold. Default 10,000. */
  maxArchiveEntries?: number;
  /** Bytes the cache keeps; least recently used files go first. Default 1 GiB. */
  cacheMaxBytes?: number;
  timeoutMs?: number;
  /** Verifies https:// URIs against `--ca` (lib/tls-client); the system CAs when absent. */
  httpsAgent?: HttpsAgent;
}

const MiB = 1024 * 1024;

export function createFetcher(options: FetcherOptions): Fetcher {
  const { cacheDir } = options;
  const maxBytes = options.maxBytes ?? 256 * MiB;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const policy = createFetchPolicy({
    masterUrl: options.masterUrl,
    allowFrom: options.allowFetchFrom,
  });
  /** One download per digest (or URI) at a time; concurrent tasks wait for the same promise. */
  const inFlight = new Map<string, Promise<string>>();
  let cacheReady: Promise<ArtifactCache> | undefined;
  let openedCache: ArtifactCache | undefined;

  /** Streams `uri` into the cache (verifying a named digest); resolves with its digest. */
  async function download(cache: ArtifactCache, uri: string, capBytes: number): Promise<string> {
    const partial = path.join(cacheDir, `${randomUUID()}.part`);
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const response = await get(new URL(uri, options.masterUrl), {
        uri,
        policy,
        signal,
        httpsAgent: options.httpsAgent,
      });
      const { digest, size } = await save(response, { uri, file: partial, capBytes });
      const expected = digestOf(uri);
      if (expected && digest !== expected) {
        throw new FetchError(`Digest mismatch for ${uri}: got sha256:${digest}`);
      }
      await rename(partial, fileOf(cacheDir, digest));
      await cache.add(digest, size);
      return digest;
    } catch (error) {
      await rm(partial, { force: true });
      if (error instanceof FetchError) throw error;
      throw new FetchError(`Could not download ${uri}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** The cached file of `uri`, pinned for the caller, downloading it when needed. */
  async function obtain(cache: ArtifactCache, uri: string, capBytes: number) {
    const pinned = (digest: string) => {
      const found = cache.lookup(digest);
      return found === undefined ? undefined : { ...found, digest, release: cache.pin(digest) };
    };
    const expected = digestOf(uri);
    const hit = expected === undefined ? undefined : pinned(expected);
    if (hit) return hit;
    const key = expected ?? uri;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = download(cache, uri, capBytes).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    const fetched = pinned(await pending);
    if (!fetched) throw new FetchError(`${uri} was evicted from the cache before it was copied`);
    return fetched;
  }

  /** Unpacks `file` beside itself when its name is an archive's; the bytes written. */
  async function unpack(file: string, maxExtractedBytes: number): Promise<number> {
    const kind = archiveKindOf(path.basename(file));
    if (!kind) return 0;
    try {
      const { bytes } = await extractArchive({
        archive: file,
        kind,
        into: path.dirname(file),
        limits: {
          maxBytes: maxExtractedBytes,
          maxEntries: options.maxArchiveEntries ?? 10_000,
        },
      });
      return bytes;
    } catch (error) {
      if (error instanceof ArchiveError) throw new FetchError(error.message, { cause: error });
      throw error;
    }
  }

  /** Once per fetcher, not once per task (a failure is retried by the next task). */
  async function openCache(): Promise<ArtifactCache> {
    cacheReady ??= mkdir(cacheDir, { recursive: true })
      .then(() =>
        openArtifactCache({ dir: cacheDir, maxBytes: options.cacheMaxBytes ?? 1024 * MiB }),
      )
      .catch((error: unknown) => {
        cacheReady = undefined;
        throw error;
      });
    openedCache = await cacheReady;
    return openedCache;
  }

  async function stage(
    uris: FetchUri[],
    sandboxDir: string,
    diskMiB: number,
  ): Promise<StagedFiles | undefined> {
    const targets = uris.map((u) => targetOf(sandboxDir, u));
    const isPlain = (u: FetchUri, i: number) =>
      path.dirname(targets[i] as string) === path.resolve(sandboxDir) &&
      (u.executable || !u.extract || !archiveKindOf(path.basename(targets[i] as string)));
    if (!uris.every(isPlain)) return undefined;
    const cache = await openCache();
    const budget = diskBudget(diskMiB);
    const releases: (() => Promise<void>)[] = [];
    const release = async () => {
      await Promise.all(releases.map((each) => each()));
    };
    // By name: a later URI of the same name replaces an earlier one, as a later copy would.
    const byName = new Map<string, SandboxFile>();
    const digests: FetchedDigests = {};
    try {
      for (const [i, fetchUri] of uris.entries()) {
        const obtained = await obtain(cache, fetchUri.uri, Math.min(maxBytes, budget.left()));
        releases.push(obtained.release);
        budget.take(fetchUri.uri, obtained.size);
        const name = path.basename(targets[i] as string);
        byName.delete(name);
        byName.set(name, { name, from: obtained.file, isExecutable: fetchUri.executable });
        digests[name] = obtained.digest;
      }
    } catch (error) {
      await release();
      throw error;
    }
    return { files: [...byName.values()], digests, release };
  }

  return {
    stage: (uris, sandboxDir, stageOptions) => stage(uris, sandboxDir, stageOptions?.diskMiB ?? 0),
    cacheBytes: () => openedCache?.sizeBytes() ?? 0,
    async fetchAll(uris, sandboxDir, fetchOptions) {
      const cache = await openCache();
      const budget = diskBudget(fetchOptions?.diskMiB ?? 0);
      let digests: FetchedDigests = {};
      for (const fetchUri of uris) {
        const target = targetOf(sandboxDir, fetchUri);
        if (!target.startsWith(path.resolve(sandboxDir) + path.sep)) {
          throw new FetchError(`destPath ${fetchUri.destPath ?? ''} leaves the sandbox`);
        }
        const obtained = await obtain(cache, fetchUri.uri, Math.min(maxBytes, budget.left()));
        const { file, size, release } = obtained;
        try {
          // The size the cache recorded (at download, or stat'ed when the agent started): no
          // thread-pool round trip per task for a stat.
          budget.take(fetchUri.uri, size);
          // The task runner made the sandbox itself; only a destPath in a subdirectory needs more.
          const isTopLevel = path.dirname(target) === path.resolve(sandboxDir);
          if (!isTopLevel) await mkdir(path.dirname(target), { recursive: true });
          await copyInto(file, target);
          if (isTopLevel) digests[path.basename(target)] = obtained.digest;
        } finally {
          await release();
        }
        if (fetchUri.executable) await chmod(target, 0o755);
        else if (fetchUri.extract && archiveKindOf(path.basename(target))) {
          // Marathon's default is extract: true, so only an archive's name forgets the digests.
          budget.spend(await unpack(target, Math.min(maxBytes, budget.left())));
          digests = {};
        }
      }
      return digests;
    },
  };
}

/** Where `fetchUri` goes in `sandboxDir` (not yet checked to stay in it). */
function targetOf(sandboxDir: string, fetchUri: FetchUri): string {
  return path.join(sandboxDir, fetchUri.destPath ?? artifactFileName(fetchUri.uri));
}

/**
 * What a task's fetched files may still take: its disk (`diskMiB`), or the agent's cap when it
 * has none (0). `take` refuses a file that does not fit.
 */
function diskBudget(diskMiB: number) {
  let left = diskMiB > 0 ? diskMiB * MiB : Infinity;
  return {
    left: () => left,
    spend(bytes: number): void {
      left -= bytes;
    },
    take(uri: string, bytes: number): void {
      if (bytes > left)
        throw new FetchError(
          `${uri} (${bytes} bytes) does not fit in the task's disk of ${diskMiB} MiB`,
        );
      left -= bytes;
    },
  };
}

/**
 * Copies a cached file to `target`, as Mesos' fetcher does, never a hard link: a link shares the
 * cache's inode, so a task writing to its own fetched file (a Wasm task may open it read-write)
 * would change the cached artifact under every later task of any app. Where the file system can,
 * the copy is a copy-on-write clone, as cheap as a link. The copy never writes through what is
 * already at `target` (a symlink a task left in a sandbox used again would lead out of it): it
 * creates the file exclusively (O_EXCL does not follow a symlink), and only when something is
 * there removes it first, so a fresh sandbox costs one thread-pool round trip, not two.
 */
async function copyInto(file: string, target: string): Promise<void> {
  const flags = fsConstants.COPYFILE_FICLONE | fsConstants.COPYFILE_EXCL;
  try {
    await copyFile(file, target, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await rm(target, { force: true });
    await copyFile(file, target, flags);
  }
}

/** Redirects followed per download, as a browser's fetch would (it follows 20). */
const MAX_REDIRECTS = 10;

/** Why the fetcher may not connect to `url`, or undefined when it may. */
function refusalOf(url: URL, policy: FetchPolicy): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `only http and https are fetched, not ${url.protocol}`;
  if (policy.isMasterOrigin(url)) return undefined;
  // An IP literal is connected to without a lookup, so it is checked here; names are checked
  // by the policy's lookup, on the very addresses the connection then uses.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? policy.refusal(host) : undefined;
}

/**
 * The response of `url` after redirects, each hop under the same policy. node:http, not the
 * global fetch: fetch's HTTP parser is Wasm (undici's llhttp), and under the Wasm driver's
 * process-wide --no-liftoff its first use cost the agent half a second of optimizing compiles on
 * the launch path (profiled).
 */
async function get(
  first: URL,
  context: { uri: string; policy: FetchPolicy; signal: AbortSignal; httpsAgent?: HttpsAgent },
): Promise<IncomingMessage> {
  const { uri, policy, signal, httpsAgent } = context;
  let url = first;
  for (let redirects = 0; ; redirects++) {
    const why = refusalOf(url, policy);
    if (why) {
      const via = url.href === first.href ? '' : ` (redirected to ${url.href})`;
      throw new FetchError(`Refused to fetch ${uri}${via}: ${why}`);
    }
    const isHttps = url.protocol === 'https:';
    const request = isHttps ? httpsRequest : httpRequest;
    const lookup = policy.isMasterOrigin(url) ? undefined : policy.lookup;
    const agent = isHttps ? httpsAgent : undefined;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request(url, { signal, lookup, ...(agent ? { agent } : {}) }, resolve);
      outgoing.once('error', reject);
      outgoing.end();
    });
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      if (redirects >= MAX_REDIRECTS) throw new FetchError(`Too many redirects for ${uri}`);
      url = new URL(location, url);
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      throw new FetchError(`Could not download ${uri}: HTTP ${status}`);
    }
    return response;
  }
}

/** Streams a response into `file`, hashing as it goes; stops at `capBytes` without buffering. */
async function save(
  response: IncomingMessage,
  context: { uri: string; file: string; capBytes: number },
): Promise<{ digest: string; size: number }> {
  const { uri, capBytes } = context;
  const declared = Number(response.headers['content-length'] ?? 0);
  if (declared > capBytes) {
    response.destroy();
    throw new FetchError(`${uri} is ${declared} bytes, over the ${capBytes} byte limit`);
  }
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    response,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.byteLength;
        if (size > capBytes) throw new FetchError(`${uri} is over the ${capBytes} byte limit`);
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(context.file, { flags: 'wx' }),
  );
  return { digest: hash.digest('hex'), size };
}
