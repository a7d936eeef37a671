// The agent's fetcher against a real local HTTP server: naming, digest verification, the
// digest-keyed cache, size limits and failures.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetcher, digestOf, FetchError, fileNameOf } from '../src/agent/fetch-artifacts.js';
import { tempDir } from './support/cluster.js';

const MODULE = Buffer.from('\0asm\x01\0\0\0');
const DIGEST = createHash('sha256').update(MODULE).digest('hex');
const BIG = Buffer.alloc(4096, 7);

describe('fetcher', () => {
  let server: http.Server;
  let base: string;
  const hits = new Map<string, number>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      hits.set(url, (hits.get(url) ?? 0) + 1);
      if (url.startsWith(`/v2/artifacts/sha256:${DIGEST}`) || url === '/plain/hello.wasm')
        res.end(MODULE);
      else if (url === '/big.bin') res.end(BIG);
      else if (url.startsWith('/moved/')) {
        // Relative redirect, then another: followed as fetch would.
        res.writeHead(302, {
          location: url === '/moved/twice' ? '/moved/once' : '/plain/hello.wasm',
        });
        res.end();
      } else if (url === '/loop') {
        res.writeHead(301, { location: '/loop' });
        res.end();
      } else if (url.startsWith('/slow')) setTimeout(() => res.end(MODULE), 2_000);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('names a fetched file after the last segment of its URI, as Mesos does', () => {
    expect(fileNameOf(`${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`)).toBe('hello.wasm');
    expect(digestOf(`${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`)).toBe(DIGEST);
    expect(digestOf(`${base}/plain/hello.wasm`)).toBeUndefined();
  });

  it('downloads into the sandbox and serves later tasks from the digest cache', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache') });
    const uri = `${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`;
    for (const n of [1, 2, 3]) {
      const sandbox = await tempDir(`pacer-sandbox-${n}`);
      await fetcher.fetchAll([{ uri, extract: false, executable: false, cache: true }], sandbox);
      expect(await readFile(path.join(sandbox, 'hello.wasm'))).toEqual(MODULE);
    }
    expect(hits.get(`/v2/artifacts/sha256:${DIGEST}/hello.wasm`)).toBe(1);
  });

  it('gives each sandbox its own copy: a task writing to its file leaves the cache intact', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache') });
    const uri = `${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`;
    const fetchUri = { uri, extract: false, executable: false, cache: false };
    const first = await tempDir('s');
    await fetcher.fetchAll([fetchUri], first);
    await writeFile(path.join(first, 'hello.wasm'), 'tampered'); // in place, same inode
    const second = await tempDir('s');
    await fetcher.fetchAll([fetchUri], second);
    expect(await readFile(path.join(second, 'hello.wasm'))).toEqual(MODULE);
  });

  it('resolves relative URIs against the master and marks executables', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const sandbox = await tempDir('pacer-sandbox');
    await fetcher.fetchAll(
      [{ uri: '/plain/hello.wasm', extract: false, executable: true, cache: false }],
      sandbox,
    );
    expect((await stat(path.join(sandbox, 'hello.wasm'))).mode & 0o111).not.toBe(0);
  });

  it('fails with FetchError when the bytes do not match the digest in the URI', async () => {
    const other = createHash('sha256').update('other').digest('hex');
    const server2 = http.createServer((_req, res) => res.end(MODULE));
    await new Promise<void>((resolve) => server2.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server2.address() as AddressInfo).port}/sha256:${other}/m.wasm`;
    try {
      const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache') });
      await expect(
        fetcher.fetchAll(
          [{ uri: url, extract: false, executable: false, cache: false }],
          await tempDir('s'),
        ),
      ).rejects.toThrow(/Digest mismatch/);
    } finally {
      await new Promise((resolve) => server2.close(resolve));
    }
  });

  it('fails with FetchError on an HTTP error, an oversized file and a download past the timeout', async () => {
    const fetcher404 = createFetcher({ cacheDir: await tempDir('pacer-cache') });
    await expect(
      fetcher404.fetchAll(
        [{ uri: `${base}/nothing.wasm`, extract: false, executable: false, cache: false }],
        await tempDir('s'),
      ),
    ).rejects.toThrow(/HTTP 404/);
    const fetcher = createFetcher({
      cacheDir: await tempDir('pacer-cache'),
      maxBytes: 1024,
      timeoutMs: 300,
    });
    await expect(
      fetcher.fetchAll(
        [{ uri: `${base}/big.bin`, extract: false, executable: false, cache: false }],
        await tempDir('s'),
      ),
    ).rejects.toThrow(/byte limit/);
    await expect(
      fetcher.fetchAll(
        [{ uri: `${base}/slow/m.wasm`, extract: false, executable: false, cache: false }],
        await tempDir('s'),
      ),
    ).rejects.toBeInstanceOf(FetchError);
  });

  it('follows redirects to the file, and fails on a redirect loop', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache') });
    const sandbox = await tempDir('s');
    await fetcher.fetchAll(
      [
        {
          uri: `${base}/moved/twice`,
          destPath: 'm.wasm',
          extract: false,
          executable: false,
          cache: false,
        },
      ],
      sandbox,
    );
    expect(await readFile(path.join(sandbox, 'm.wasm'))).toEqual(MODULE);
    await expect(
      fetcher.fetchAll(
        [{ uri: `${base}/loop`, extract: false, executable: false, cache: false }],
        await tempDir('s'),
      ),
    ).rejects.toThrow(/Too many redirects/);
  });

  it('keeps destPath inside the sandbox', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache') });
    await expect(
      fetcher.fetchAll(
        [
          {
            uri: `${base}/plain/hello.wasm`,
            extract: false,
            executable: false,
            cache: false,
            destPath: '../outside.wasm',
          },
        ],
        await tempDir('s'),
      ),
    ).rejects.toThrow(/leaves the sandbox/);
  });
});
