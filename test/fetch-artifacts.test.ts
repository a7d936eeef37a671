// The agent's fetcher against a real local HTTP server: naming, digest verification, the
// digest-keyed cache, size limits and failures; unpacking archives built in the test, hostile
// ones included (paths out of the sandbox, links, devices, bombs).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFetcher,
  digestOf,
  FetchError,
  artifactFileName,
} from '../src/agent/fetch-artifacts.js';
import type { FetchUri } from '../src/domain/index.js';
import { tarOf, zipOf } from './support/archives.js';
import type { TarEntry } from './support/archives.js';
import { tempDir } from './support/cluster.js';

const MODULE = Buffer.from('\0asm\x01\0\0\0');
const DIGEST = createHash('sha256').update(MODULE).digest('hex');
const BIG = Buffer.alloc(4096, 7);
const plainFetch = { extract: false, executable: false, cache: true };

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
      else if (url === '/big.bin' || url === '/other/hello.wasm') res.end(BIG);
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
    expect(artifactFileName(`${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`)).toBe('hello.wasm');
    expect(digestOf(`${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`)).toBe(DIGEST);
    expect(digestOf(`${base}/plain/hello.wasm`)).toBeUndefined();
  });

  it('downloads into the sandbox and serves later tasks from the digest cache', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const uri = `${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`;
    for (const n of [1, 2, 3]) {
      const sandbox = await tempDir(`pacer-sandbox-${n}`);
      await fetcher.fetchAll([{ uri, extract: false, executable: false, cache: true }], sandbox);
      expect(await readFile(path.join(sandbox, 'hello.wasm'))).toEqual(MODULE);
    }
    expect(hits.get(`/v2/artifacts/sha256:${DIGEST}/hello.wasm`)).toBe(1);
  });

  it('gives each sandbox its own copy: a task writing to its file leaves the cache intact', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const uri = `${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`;
    const fetchUri = { uri, extract: false, executable: false, cache: false };
    const first = await tempDir('s');
    await fetcher.fetchAll([fetchUri], first);
    await writeFile(path.join(first, 'hello.wasm'), 'tampered'); // in place, same inode
    const second = await tempDir('s');
    await fetcher.fetchAll([fetchUri], second);
    expect(await readFile(path.join(second, 'hello.wasm'))).toEqual(MODULE);
  });

  it('tells the digest of each file it copied to the top of the sandbox', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const sandbox = await tempDir('pacer-sandbox');
    const digests = await fetcher.fetchAll(
      [
        { uri: `${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`, ...plainFetch },
        { uri: '/plain/hello.wasm', destPath: 'lib/copy.wasm', ...plainFetch },
      ],
      sandbox,
    );
    // Only the top of the sandbox: the one in lib/ is not named by a plain name.
    expect(digests).toEqual({ 'hello.wasm': DIGEST });
    // Marathon's default, extract: true, on a name that is no archive's changes nothing.
    const again = await fetcher.fetchAll(
      [{ uri: '/plain/hello.wasm', ...plainFetch, extract: true }],
      await tempDir('pacer-sandbox'),
    );
    expect(again).toEqual({ 'hello.wasm': DIGEST });
  });

  it('tells the digest of the file that stays when a later fetch takes the same name', async () => {
    // The driver runs the compiled module of the digest it is told: were it the first file's, a
    // task would run bytes other than those in its sandbox.
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const sandbox = await tempDir('pacer-sandbox');
    const digests = await fetcher.fetchAll(
      [
        { uri: `${base}/v2/artifacts/sha256:${DIGEST}/hello.wasm`, ...plainFetch },
        { uri: '/other/hello.wasm', ...plainFetch },
      ],
      sandbox,
    );
    expect(await readFile(path.join(sandbox, 'hello.wasm'))).toEqual(BIG);
    expect(digests).toEqual({ 'hello.wasm': createHash('sha256').update(BIG).digest('hex') });
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const sandbox = await tempDir('pacer-sandbox');
    const outside = path.join(await tempDir('pacer-outside'), 'victim');
    await writeFile(outside, 'untouched');
    await symlink(outside, path.join(sandbox, 'hello.wasm'));
    await fetcher.fetchAll([{ uri: '/plain/hello.wasm', ...plainFetch }], sandbox);
    expect(await readFile(outside, 'utf8')).toBe('untouched');
    expect((await lstat(path.join(sandbox, 'hello.wasm'))).isFile()).toBe(true);
    expect(await readFile(path.join(sandbox, 'hello.wasm'))).toEqual(MODULE);
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
      // Another origin on loopback: reachable only because the operator allows it.
      const fetcher = createFetcher({
        cacheDir: await tempDir('pacer-cache'),
        masterUrl: base,
        allowFetchFrom: ['127.0.0.1/32'],
      });
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
    const fetcher404 = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    await expect(
      fetcher404.fetchAll(
        [{ uri: `${base}/nothing.wasm`, extract: false, executable: false, cache: false }],
        await tempDir('s'),
      ),
    ).rejects.toThrow(/HTTP 404/);
    const fetcher = createFetcher({
      cacheDir: await tempDir('pacer-cache'),
      masterUrl: base,
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
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
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
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
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

describe('fetch policy', () => {
  let server: http.Server;
  let base: string;
  let port: number;
  /** Bytes the endless route managed to send before the fetcher hung up. */
  let endlessSent = 0;
  let endlessClosed: Promise<void> = Promise.resolve();
  const blobs = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const uriOf = (blob: Buffer) => {
    const digest = createHash('sha256').update(blob).digest('hex');
    blobs.set(digest, blob);
    return `${base}/blob/sha256:${digest}/b.bin`;
  };
  const one = (uri: string, more: Partial<FetchUri> = {}): FetchUri[] => [
    { uri, extract: false, executable: false, cache: true, ...more },
  ];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      hits.set(url, (hits.get(url) ?? 0) + 1);
      const blob = /^\/blob\/sha256:([0-9a-f]{64})\//.exec(url);
      if (blob) res.end(blobs.get(blob[1] as string));
      else if (url === '/to-loopback') {
        res.writeHead(302, { location: `http://127.0.0.2:${port}/blob/x` }).end();
      } else if (url === '/to-metadata') {
        res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else if (url === '/to-name') {
        res.writeHead(307, { location: `http://localhost:${port}/blob/x` }).end();
      } else if (url === '/to-file') {
        res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      } else if (url === '/endless') {
        // No content-length, never ends: only the fetcher's cap stops it.
        endlessSent = 0;
        const chunk = Buffer.alloc(64 * 1024, 1);
        endlessClosed = new Promise((resolve) => res.once('close', () => resolve()));
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) endlessSent += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a redirect from the master to another loopback address, the metadata address or a loopback name', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const attempt = (route: string) => fetcher.fetchAll(one(`${base}${route}`), tempDirSync());
    await expect(attempt('/to-loopback')).rejects.toThrow(
      /Refused to fetch .*redirected to http:\/\/127\.0\.0\.2.*127\.0\.0\.2 is a private, loopback/,
    );
    await expect(attempt('/to-metadata')).rejects.toThrow(/169\.254\.169\.254 is a private/);
    // A name is resolved first and its addresses checked: localhost is loopback too.
    await expect(attempt('/to-name')).rejects.toThrow(/localhost resolves to .* is a private/);
    await expect(attempt('/to-file')).rejects.toThrow(/only http and https are fetched, not file:/);
    expect(hits.get('/blob/x')).toBeUndefined();
  });

  it('refuses URLs naming private, loopback, link-local or metadata addresses in any spelling', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const refused = [
      'http://10.1.2.3/a.wasm',
      'http://172.16.0.1/a.wasm',
      'http://192.168.1.1/a.wasm',
      'http://169.254.169.254/latest/meta-data/iam',
      `http://127.0.0.1:${port + 1}/a.wasm`, // loopback, but not the master's origin
      'http://2130706433/a.wasm', // 127.0.0.1 as one number
      'http://0x7f.1/a.wasm',
      'http://0.0.0.0/a.wasm',
      'http://[::1]/a.wasm',
      'http://[::ffff:127.0.0.1]/a.wasm',
      'http://[fd00:ec2::254]/a.wasm',
      'http://[fe80::1]/a.wasm',
      'http://[fc00::5]/a.wasm',
    ];
    for (const uri of refused) {
      await expect(fetcher.fetchAll(one(uri), tempDirSync()), uri).rejects.toThrow(
        /Refused to fetch .*is a private, loopback, link-local or metadata address/,
      );
    }
    for (const uri of [
      'file:///etc/passwd',
      'data:application/wasm;base64,AGFzbQ==',
      'ftp://x/y',
    ]) {
      const error = await fetcher.fetchAll(one(uri), tempDirSync()).catch((e: unknown) => e);
      expect(error, uri).toBeInstanceOf(FetchError);
      expect(String(error)).toMatch(/only http and https are fetched/);
    }
  });

  it('stops a download at the task disk cap as it streams, keeping nothing', async () => {
    const cacheDir = await tempDir('pacer-cache');
    const fetcher = createFetcher({ cacheDir, masterUrl: base });
    await expect(
      fetcher.fetchAll(one(`${base}/endless`), tempDirSync(), { diskMiB: 1 }),
    ).rejects.toThrow(/over the 1048576 byte limit/);
    await endlessClosed;
    // It hung up after about the cap, not after the whole (endless) body.
    expect(endlessSent).toBeLessThan(16 * 1024 * 1024);
    expect(await readdir(cacheDir)).toEqual([]);
    // Without a disk the agent's own cap applies.
    const capped = createFetcher({ cacheDir, masterUrl: base, maxBytes: 2 * 1024 * 1024 });
    await expect(capped.fetchAll(one(`${base}/endless`), tempDirSync())).rejects.toThrow(
      /over the 2097152 byte limit/,
    );
    await endlessClosed;
  });

  it('counts the fetched files together against the task disk, cached ones too', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const a = uriOf(Buffer.alloc(700 * 1024, 2));
    const b = uriOf(Buffer.alloc(700 * 1024, 3));
    await fetcher.fetchAll(one(a, { destPath: 'a' }), tempDirSync(), { diskMiB: 1 });
    await expect(
      fetcher.fetchAll(
        [...one(a, { destPath: 'a' }), ...one(b, { destPath: 'b' })],
        tempDirSync(),
        {
          diskMiB: 1,
        },
      ),
    ).rejects.toThrow(/byte limit|does not fit in the task's disk/);
  });

  it('evicts the least recently used artifacts once the cache passes its bound in bytes', async () => {
    const cacheDir = await tempDir('pacer-cache');
    const fetcher = createFetcher({ cacheDir, masterUrl: base, cacheMaxBytes: 10 * 1024 });
    const [a, b, c] = [4, 5, 6].map((n) => uriOf(Buffer.alloc(4 * 1024, n))) as [
      string,
      string,
      string,
    ];
    const path = (uri: string) => new URL(uri).pathname;
    for (const uri of [a, b, a, c]) await fetcher.fetchAll(one(uri), tempDirSync());
    // a was used after b, so b went when c came.
    expect((await readdir(cacheDir)).sort()).toEqual(
      [a, c].map((uri) => `sha256-${digestOf(uri)}`).sort(),
    );
    expect([a, b, c].map((uri) => hits.get(path(uri)))).toEqual([1, 1, 1]);
    await fetcher.fetchAll(one(b), tempDirSync());
    expect(hits.get(path(b))).toBe(2);
    // A fresh fetcher (an agent restart) takes in what is there, within the bound.
    const restarted = createFetcher({ cacheDir, masterUrl: base, cacheMaxBytes: 5 * 1024 });
    await restarted.fetchAll(one(b), tempDirSync());
    expect(await readdir(cacheDir)).toEqual([`sha256-${digestOf(b)}`]);
    expect(hits.get(path(b))).toBe(2);
  });

  it('stages files for a driver that makes the sandbox: nothing copied, kept in the cache until released', async () => {
    const cacheDir = await tempDir('pacer-cache');
    const fetcher = createFetcher({ cacheDir, masterUrl: base, cacheMaxBytes: 6 * 1024 });
    const [a, b] = [7, 8].map((n) => uriOf(Buffer.alloc(4 * 1024, n))) as [string, string];
    const sandbox = path.join(tempDirSync(), 'not-made');
    const staged = await fetcher.stage(one(a, { executable: true }), sandbox, { diskMiB: 1 });
    expect(staged?.files).toEqual([
      { name: 'b.bin', from: path.join(cacheDir, `sha256-${digestOf(a)}`), isExecutable: true },
    ]);
    expect(staged?.digests).toEqual({ 'b.bin': digestOf(a) });
    await expect(stat(sandbox)).rejects.toThrow(/ENOENT/);
    // Past the bound while staged: a stays, until its task has ended.
    await fetcher.fetchAll(one(b), tempDirSync());
    expect(await readdir(cacheDir)).toContain(`sha256-${digestOf(a)}`);
    await staged?.release();
    await fetcher.fetchAll(one(b), tempDirSync());
    expect(await readdir(cacheDir)).toEqual([`sha256-${digestOf(b)}`]);
  });

  it('stages nothing for an archive to unpack or a file in a subdirectory, and checks the disk', async () => {
    const fetcher = createFetcher({ cacheDir: await tempDir('pacer-cache'), masterUrl: base });
    const archive = `${uriOf(Buffer.alloc(10, 1)).replace(/b\.bin$/, 'x.tar.gz')}`;
    const sandbox = tempDirSync();
    expect(await fetcher.stage(one(archive, { extract: true }), sandbox)).toBeUndefined();
    const nested = one(uriOf(Buffer.alloc(10, 2)), { destPath: 'sub/file' });
    expect(await fetcher.stage(nested, sandbox)).toBeUndefined();
    // A destPath that is not a plain name at the top (the sandbox itself, its parent, a path
    // out of it, an absolute one) is never staged: the copying fetch refuses it.
    for (const destPath of ['..', '.', '', '../outside.wasm', 'a/../../x', '/etc/cron.d/x']) {
      const hostile = one(uriOf(Buffer.alloc(10, 4)), { destPath });
      expect(await fetcher.stage(hostile, sandbox)).toBeUndefined();
    }
    const big = one(uriOf(Buffer.alloc(1100 * 1024, 3)));
    await expect(fetcher.stage(big, sandbox, { diskMiB: 1 })).rejects.toThrow(
      /byte limit|does not fit in the task's disk/,
    );
  });
});

function tempDirSync(): string {
  return mkdtempSync(path.join(tmpdir(), 'pacer-sandbox-'));
}

describe('fetch[].extract and fetch[].executable', () => {
  let server: http.Server;
  let base: string;
  const archives = new Map<string, Buffer>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const archive = archives.get((req.url ?? '').replace(/^\/archives\//, ''));
      if (archive) res.end(archive);
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

  /** Serves `bytes` as `name`, fetches it into a new sandbox (inside a parent dir) and returns both. */
  async function fetchArchive(
    name: string,
    bytes: Buffer,
    options: {
      diskMiB?: number;
      executable?: boolean;
      extract?: boolean;
      maxEntries?: number;
    } = {},
  ) {
    archives.set(name, bytes);
    const parent = await tempDir('pacer-parent');
    const sandbox = path.join(parent, 'sandbox');
    await mkdir(sandbox);
    const fetcher = createFetcher({
      cacheDir: await tempDir('pacer-cache'),
      masterUrl: base,
      ...(options.maxEntries ? { maxArchiveEntries: options.maxEntries } : {}),
    });
    const fetchUri: FetchUri = {
      uri: `${base}/archives/${name}`,
      extract: options.extract ?? true,
      executable: options.executable ?? false,
      cache: false,
    };
    const done = fetcher.fetchAll([fetchUri], sandbox, { diskMiB: options.diskMiB ?? 0 });
    return { done, sandbox, parent };
  }

  /** Every path under `dir`, relative, sorted. */
  async function tree(dir: string): Promise<string[]> {
    return (await readdir(dir, { recursive: true })).map(String).sort();
  }

  const files: TarEntry[] = [
    { path: 'app/', type: 'Directory' },
    { path: 'app/run.sh', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o4755 },
    { path: 'app/data/config.json', data: Buffer.from('{"a":1}') },
  ];

  for (const [name, bytes] of [
    ['bundle.tar', tarOf(files)],
    ['bundle.tar.gz', tarOf(files, { gzip: true })],
    ['bundle.tgz', tarOf(files, { gzip: true })],
    [
      'bundle.zip',
      zipOf([
        { name: 'app/', mode: 0o040755 },
        { name: 'app/run.sh', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o104755 },
        { name: 'app/data/config.json', data: Buffer.from('{"a":1}') },
      ]),
    ],
  ] as const) {
    it(`unpacks ${name} into the sandbox, keeping exec bits but never set-id`, async () => {
      const { done, sandbox } = await fetchArchive(name, bytes);
      await done;
      expect(await readFile(path.join(sandbox, 'app/data/config.json'), 'utf8')).toBe('{"a":1}');
      const mode = (await stat(path.join(sandbox, 'app/run.sh'))).mode & 0o7777;
      expect(mode).toBe(0o755);
      expect(await tree(sandbox)).toEqual(
        [name, 'app', 'app/data', 'app/data/config.json', 'app/run.sh'].sort(),
      );
    });
  }

  it('makes an executable file executable and does not unpack it, as Mesos', async () => {
    const { done, sandbox } = await fetchArchive('tool.tar.gz', tarOf(files, { gzip: true }), {
      executable: true,
    });
    await done;
    expect(await tree(sandbox)).toEqual(['tool.tar.gz']);
    expect((await stat(path.join(sandbox, 'tool.tar.gz'))).mode & 0o111).not.toBe(0);
  });

  it('forgets the digests once it unpacks an archive, which may replace the files', async () => {
    const { done } = await fetchArchive('bundle.tar', tarOf(files));
    expect(await done).toEqual({});
  });

  it('leaves an archive packed without extract, and a non-archive name as it is', async () => {
    const packed = await fetchArchive('keep.tar', tarOf(files), { extract: false });
    await packed.done;
    expect(await tree(packed.sandbox)).toEqual(['keep.tar']);
    const plain = await fetchArchive('notes.txt', Buffer.from('hello'));
    await plain.done;
    expect(await tree(plain.sandbox)).toEqual(['notes.txt']);
  });

  const hostile: [string, string, Buffer, RegExp][] = [
    [
      'a tar entry with ..',
      'dotdot.tar',
      tarOf([{ path: '../escaped', data: Buffer.from('x') }]),
      /leaves the sandbox/,
    ],
    [
      'a tar entry deep in ..',
      'deep.tar',
      tarOf([{ path: 'a/../../escaped', data: Buffer.from('x') }]),
      /leaves the sandbox/,
    ],
    [
      'an absolute tar path',
      'abs.tar',
      tarOf([{ path: '/tmp/escaped', data: Buffer.from('x') }]),
      /absolute path/,
    ],
    [
      'a tar symlink pointing out',
      'sym.tar',
      tarOf([
        { path: 'link', type: 'SymbolicLink', linkpath: '/etc' },
        { path: 'link/escaped', data: Buffer.from('x') },
      ]),
      /SymbolicLink/,
    ],
    [
      'a tar hard link',
      'hard.tar',
      tarOf([{ path: 'hard', type: 'Link', linkpath: '/etc/passwd' }]),
      /Link/,
    ],
    [
      'a tar character device',
      'dev.tar',
      tarOf([{ path: 'null', type: 'CharacterDevice' }]),
      /CharacterDevice/,
    ],
    ['a tar FIFO', 'fifo.tar', tarOf([{ path: 'pipe', type: 'FIFO' }]), /FIFO/],
    [
      'a zip entry with ..',
      'dotdot.zip',
      zipOf([{ name: '../escaped', data: Buffer.from('x') }]),
      /invalid relative path|leaves the sandbox/,
    ],
    [
      'an absolute zip path',
      'abs.zip',
      zipOf([{ name: '/tmp/escaped', data: Buffer.from('x') }]),
      /absolute path/,
    ],
    [
      'a zip symlink',
      'sym.zip',
      zipOf([{ name: 'link', data: Buffer.from('/etc'), mode: 0o120777 }]),
      /not a plain file/,
    ],
  ];
  for (const [what, name, bytes, message] of hostile) {
    it(`refuses ${what}, writing nothing outside the sandbox`, async () => {
      const { done, parent } = await fetchArchive(name, bytes);
      await expect(done).rejects.toThrow(FetchError);
      await expect(done).rejects.toThrow(message);
      // Nothing beside the sandbox, and no link inside it.
      expect(await readdir(parent)).toEqual(['sandbox']);
      for (const entry of await readdir(path.join(parent, 'sandbox'), { withFileTypes: true }))
        expect(entry.isSymbolicLink()).toBe(false);
    });
  }

  it('refuses a zip bomb past the task disk before inflating it', async () => {
    const bomb = zipOf([{ name: 'zeros', data: Buffer.alloc(64 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const { done, sandbox } = await fetchArchive('bomb.zip', bomb, { diskMiB: 2 });
    await expect(done).rejects.toThrow(/unpacks to more than/);
    expect(await tree(sandbox)).toEqual(['bomb.zip']);
  });

  it('refuses a zip whose entry inflates past its declared size', async () => {
    const liar = zipOf([{ name: 'zeros', data: Buffer.alloc(4 * 1024 * 1024), declaredSize: 10 }]);
    const { done } = await fetchArchive('liar.zip', liar, { diskMiB: 2 });
    await expect(done).rejects.toThrow(FetchError);
  });

  it('refuses a tar.gz that unpacks past the task disk', async () => {
    const big = tarOf([{ path: 'zeros', data: Buffer.alloc(3 * 1024 * 1024) }], { gzip: true });
    const { done } = await fetchArchive('big.tar.gz', big, { diskMiB: 2 });
    await expect(done).rejects.toThrow(/unpacks to more than/);
  });

  it('refuses an archive of more entries than allowed', async () => {
    const many = tarOf(
      Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, data: Buffer.from('x') })),
    );
    const { done } = await fetchArchive('many.tar', many, { maxEntries: 10 });
    await expect(done).rejects.toThrow(/more than 10 entries/);
  });
});
