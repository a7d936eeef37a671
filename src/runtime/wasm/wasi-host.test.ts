// The WASI host against real files in a temp sandbox: calls, the sandbox boundary, allocation
// bounds, the exact disk quota and host-call fuel.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_CALL_FUEL, fuelForBytes } from './fuel-cost.js';
import { ENTRY_BYTES } from './wasi/disk-quota.js';
import { Errno } from './wasi-errno.js';
import { ProcExit, createWasiHost } from './wasi-host.js';
import { wasiSignatures } from './wasi-signatures.js';

/** One host over a fresh sandbox and a 1-page memory, with helpers to place and read values. */
function setUp(
  options: {
    diskQuotaBytes?: number;
    args?: string[];
    env?: Record<string, string>;
    pages?: number;
    chargeFuel?: (units: number) => void;
    /** Fills the sandbox before the host measures it (the fetched artifacts). */
    prepare?: (sandboxDir: string) => void;
  } = {},
) {
  const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'wasi-host-'));
  options.prepare?.(sandboxDir);
  const outside = mkdtempSync(path.join(os.tmpdir(), 'wasi-outside-'));
  writeFileSync(path.join(outside, 'secret.txt'), 'secret');
  const logs: { stream: string; line: string }[] = [];
  const host = createWasiHost({
    args: options.args ?? ['task.wasm', 'hello'],
    env: options.env ?? { NAME: 'world' },
    sandboxDir,
    maxLogLineBytes: 64,
    diskQuotaBytes: options.diskQuotaBytes ?? 1024 * 1024,
    control: new Int32Array(new SharedArrayBuffer(4)),
    onLog: (stream, lines) => logs.push(...lines.map((line) => ({ stream, line }))),
    chargeFuel: options.chargeFuel,
  });
  const memory = new WebAssembly.Memory({ initial: options.pages ?? 1 });
  host.setMemory(memory);
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  let next = 1024;
  const put = (text: string): [number, number] => {
    const encoded = new TextEncoder().encode(text);
    const at = next;
    bytes().set(encoded, at);
    next += encoded.length + 8;
    return [at, encoded.length];
  };
  const call = (name: string, ...args: (number | bigint)[]) =>
    (host.imports[name] as (...a: (number | bigint)[]) => number)(...args);
  const u32 = (at: number) => view().getUint32(at, true);
  const u64 = (at: number) => view().getBigUint64(at, true);
  const text = (at: number, length: number) =>
    new TextDecoder().decode(bytes().slice(at, at + length));
  /** Opens `name` under the preopen (fd 3); returns [errno, fd]. */
  const open = (name: string, oflags = 0, rights = 0x42n): [number, number] => {
    const [p, n] = put(name);
    const errno = call('path_open', 3, 0, p, n, oflags, rights, 0n, 0, 500);
    return [errno, u32(500)];
  };
  /** Writes one iovec from `text`. */
  const write = (fd: number, content: string): number => {
    const [p, n] = put(content);
    view().setUint32(600, p, true);
    view().setUint32(604, n, true);
    return call('fd_write', fd, 600, 1, 610);
  };
  /** Writes `length` bytes (from address 0) in one iovec, at `offset` with fd_pwrite if given. */
  const writeBytes = (fd: number, length: number, offset?: bigint): number => {
    view().setUint32(600, 0, true);
    view().setUint32(604, length, true);
    return offset === undefined
      ? call('fd_write', fd, 600, 1, 610)
      : call('fd_pwrite', fd, 600, 1, offset, 610);
  };
  return {
    host,
    logs,
    sandboxDir,
    outside,
    call,
    put,
    u32,
    u64,
    text,
    open,
    write,
    writeBytes,
    view,
  };
}

const CREAT = 1;
const DIRECTORY = 2;

describe('WASI host', () => {
  it('gives the arguments and the environment, and their sizes', () => {
    const t = setUp();
    expect(t.call('args_sizes_get', 100, 104)).toBe(Errno.SUCCESS);
    expect([t.u32(100), t.u32(104)]).toEqual([2, 'task.wasm\0hello\0'.length]);
    expect(t.call('args_get', 200, 300)).toBe(Errno.SUCCESS);
    expect(t.text(t.u32(204), 5)).toBe('hello');
    expect(t.call('environ_sizes_get', 100, 104)).toBe(Errno.SUCCESS);
    expect([t.u32(100), t.u32(104)]).toEqual([1, 'NAME=world\0'.length]);
    expect(t.call('environ_get', 200, 300)).toBe(Errno.SUCCESS);
    expect(t.text(t.u32(200), 10)).toBe('NAME=world');
  });

  it('reads the realtime and monotonic clocks and fills random bytes', () => {
    const t = setUp();
    expect(t.call('clock_time_get', 0, 1n, 100)).toBe(Errno.SUCCESS);
    const realtimeMs = Number(t.u64(100) / 1_000_000n);
    expect(Math.abs(realtimeMs - Date.now())).toBeLessThan(5_000);
    expect(t.call('clock_time_get', 1, 1n, 100)).toBe(Errno.SUCCESS);
    const first = t.u64(100);
    expect(t.call('clock_time_get', 1, 1n, 100)).toBe(Errno.SUCCESS);
    expect(t.u64(100)).toBeGreaterThanOrEqual(first);
    expect(t.call('clock_res_get', 1, 100)).toBe(Errno.SUCCESS);
    expect(t.call('random_get', 100, 32)).toBe(Errno.SUCCESS);
    expect(new Uint8Array(t.view().buffer, 100, 32).some((b) => b !== 0)).toBe(true);
  });

  it('captures stdout and stderr line by line, bounding line length', () => {
    const t = setUp();
    expect(t.write(1, 'one\ntw')).toBe(Errno.SUCCESS);
    expect(t.u32(610)).toBe(6);
    t.write(1, 'o\n');
    t.write(2, `${'x'.repeat(100)}\n`);
    t.host.close();
    expect(t.logs.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['one', 'two']);
    const err = t.logs
      .filter((l) => l.stream === 'stderr')
      .map((l) => l.line)
      .join('');
    expect(t.logs.filter((l) => l.stream === 'stderr').every((l) => l.line.length <= 64)).toBe(
      true,
    );
    expect(err.replace(/[^x]/g, '').length).toBeLessThanOrEqual(100);
  });

  it('names the sandbox as the only preopen', () => {
    const t = setUp();
    expect(t.call('fd_prestat_get', 3, 100)).toBe(Errno.SUCCESS);
    const length = t.u32(104);
    expect(t.call('fd_prestat_dir_name', 3, 200, length)).toBe(Errno.SUCCESS);
    expect(t.text(200, length)).toBe('/');
    expect(t.call('fd_prestat_get', 4, 100)).toBe(Errno.BADF);
  });

  it('creates, writes, seeks, reads and closes a file inside the sandbox', () => {
    const t = setUp();
    const [errno, fd] = t.open('notes.txt', CREAT, 0x42n);
    expect(errno).toBe(Errno.SUCCESS);
    expect(t.write(fd, 'hello sandbox')).toBe(Errno.SUCCESS);
    expect(readFileSync(path.join(t.sandboxDir, 'notes.txt'), 'utf8')).toBe('hello sandbox');
    expect(t.call('fd_seek', fd, 6n, 0, 700)).toBe(Errno.SUCCESS);
    expect(t.u64(700)).toBe(6n);
    t.view().setUint32(600, 800, true);
    t.view().setUint32(604, 7, true);
    expect(t.call('fd_read', fd, 600, 1, 610)).toBe(Errno.SUCCESS);
    expect(t.text(800, t.u32(610))).toBe('sandbox');
    expect(t.call('fd_filestat_get', fd, 900)).toBe(Errno.SUCCESS);
    expect(t.u64(900 + 32)).toBe(13n); // filestat.size
    expect(t.call('fd_close', fd)).toBe(Errno.SUCCESS);
    expect(t.call('fd_close', fd)).toBe(Errno.BADF);
  });

  it('makes, lists, renames and removes entries', () => {
    const t = setUp();
    const [dir, dirLength] = t.put('sub');
    expect(t.call('path_create_directory', 3, dir, dirLength)).toBe(Errno.SUCCESS);
    const [errno, fd] = t.open('sub/a.txt', CREAT, 0x42n);
    expect(errno).toBe(Errno.SUCCESS);
    t.call('fd_close', fd);
    const [from, fromLength] = t.put('sub/a.txt');
    const [to, toLength] = t.put('sub/b.txt');
    expect(t.call('path_rename', 3, from, fromLength, 3, to, toLength)).toBe(Errno.SUCCESS);
    const [dirErrno, dirFd] = t.open('sub', DIRECTORY, 0n);
    expect(dirErrno).toBe(Errno.SUCCESS);
    expect(t.call('fd_readdir', dirFd, 2000, 512, 0n, 700)).toBe(Errno.SUCCESS);
    expect(t.text(2000, t.u32(700))).toContain('b.txt');
    const [name, nameLength] = t.put('sub/b.txt');
    expect(t.call('path_filestat_get', 3, 0, name, nameLength, 900)).toBe(Errno.SUCCESS);
    expect(t.call('path_unlink_file', 3, name, nameLength)).toBe(Errno.SUCCESS);
    expect(t.call('path_remove_directory', 3, dir, dirLength)).toBe(Errno.SUCCESS);
  });

  it('refuses every way out of the sandbox: .., absolute paths, symlinks, links', () => {
    const t = setUp();
    symlinkSync(path.join(t.outside, 'secret.txt'), path.join(t.sandboxDir, 'link'));
    mkdirSync(path.join(t.sandboxDir, 'inner'));
    const relativeOut = path.relative(t.sandboxDir, path.join(t.outside, 'secret.txt'));
    for (const name of [
      '../secret.txt',
      relativeOut,
      'inner/../../x',
      path.join(t.outside, 'secret.txt'),
      'link',
    ]) {
      const [errno] = t.open(name, 0, 0x2n);
      expect(errno, name).not.toBe(Errno.SUCCESS);
    }
    const [target, targetLength] = t.put('/etc/passwd');
    const [link, linkLength] = t.put('passwd');
    expect(t.call('path_symlink', target, targetLength, 3, link, linkLength)).toBe(
      Errno.NOTCAPABLE,
    );
    expect(t.call('path_link', 3, 0, target, targetLength, 3, link, linkLength)).toBe(
      Errno.NOTCAPABLE,
    );
  });

  it('follows links that stay inside the sandbox and refuses those that leave it or loop', () => {
    const t = setUp();
    mkdirSync(path.join(t.sandboxDir, 'dir'));
    writeFileSync(path.join(t.sandboxDir, 'dir', 'file.txt'), 'inside');
    const link = (target: string, name: string) => {
      const [tp, tn] = t.put(target);
      const [np, nn] = t.put(name);
      return t.call('path_symlink', tp, tn, 3, np, nn);
    };
    expect(link('dir/file.txt', 'ok')).toBe(Errno.SUCCESS);
    expect(link('../outside', 'up')).toBe(Errno.SUCCESS); // may exist, never be followed out
    expect(link('loop', 'loop')).toBe(Errno.SUCCESS);
    const FOLLOW = 1;
    const openFollowing = (name: string) => {
      const [p, n] = t.put(name);
      return t.call('path_open', 3, FOLLOW, p, n, 0, 0x2n, 0n, 0, 500);
    };
    expect(openFollowing('ok')).toBe(Errno.SUCCESS);
    expect(openFollowing('up')).toBe(Errno.NOTCAPABLE);
    expect(openFollowing('up/secret.txt')).toBe(Errno.NOTCAPABLE);
    expect(openFollowing('loop')).toBe(Errno.LOOP);
  });

  it('refuses a directory fd whose path a task swapped for a link that leads out', () => {
    const t = setUp();
    // An fd for a/<name of a directory beside the sandbox>, then `a` becomes a link to `..`.
    const besideName = path.basename(t.outside);
    mkdirSync(path.join(t.sandboxDir, 'a', besideName), { recursive: true });
    const [errno, dirFd] = t.open(`a/${besideName}`, DIRECTORY, 0n);
    expect(errno).toBe(Errno.SUCCESS);
    const [from, fromLength] = t.put('a');
    const [to, toLength] = t.put('z');
    expect(t.call('path_rename', 3, from, fromLength, 3, to, toLength)).toBe(Errno.SUCCESS);
    const [target, targetLength] = t.put('..');
    expect(t.call('path_symlink', target, targetLength, 3, from, fromLength)).toBe(Errno.SUCCESS);
    const [secret, secretLength] = t.put('secret.txt');
    const openErrno = t.call('path_open', dirFd, 0, secret, secretLength, 0, 0x2n, 0n, 0, 500);
    expect(openErrno).toBe(Errno.NOTDIR);
    expect(t.call('fd_readdir', dirFd, 2000, 1000, 0n, 510)).toBe(Errno.NOTDIR);
  });

  it('stops writes past the disk quota', () => {
    // The sandbox directory's own block is charged already: nothing more fits in 10 bytes.
    const t = setUp({ diskQuotaBytes: 10 });
    expect(t.open('big.bin', CREAT, 0x42n)[0]).toBe(Errno.DQUOT);
    expect(existsSync(path.join(t.sandboxDir, 'big.bin'))).toBe(false);
  });

  it('has no sockets, and unwinds the guest on proc_exit with its code', () => {
    const t = setUp();
    for (const name of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown']) {
      expect(t.call(name, 0, 0, 0, 0, 0, 0), name).not.toBe(Errno.SUCCESS);
    }
    expect(() => t.call('proc_exit', 3)).toThrow(ProcExit);
    try {
      t.call('proc_exit', 7);
    } catch (error) {
      expect((error as ProcExit).code).toBe(7);
    }
  });

  it('answers a bad pointer with EFAULT instead of failing the host', () => {
    const t = setUp();
    expect(t.call('args_sizes_get', 70_000, 70_004)).toBe(Errno.FAULT);
    expect(t.call('random_get', 65_530, 64)).toBe(Errno.FAULT);
  });
});

describe('WASI host limits: what a task can make the host allocate', () => {
  it('refuses more than 1024 iovecs with EINVAL before it reads any', () => {
    const t = setUp();
    expect(t.call('fd_write', 1, 0, 1025, 610)).toBe(Errno.INVAL);
    expect(t.call('fd_write', 1, 0, 0x7fff_ffff, 610)).toBe(Errno.INVAL);
    expect(t.call('fd_read', 0, 0, 8 * 1024 * 1024, 610)).toBe(Errno.INVAL);
    // An iovec reaching past the memory is EFAULT, checked before anything is written.
    t.view().setUint32(600, 65_000, true);
    t.view().setUint32(604, 1_000, true);
    expect(t.call('fd_write', 1, 600, 1, 610)).toBe(Errno.FAULT);
    expect(t.logs).toEqual([]);
  });

  it('takes at most 64 KiB per stdout write (a short write), so newlines cannot flood the host', () => {
    const t = setUp({ pages: 4 });
    new Uint8Array(t.view().buffer).fill(0x0a, 0, 200_000);
    expect(t.writeBytes(1, 200_000)).toBe(Errno.SUCCESS);
    expect(t.u32(610)).toBe(64 * 1024);
    // The line splitter passes on at most 10,000 lines of one write and counts the rest, in a
    // marker line (line-splitter.ts): 64 Ki newlines become 10,000 empty lines and the marker.
    expect(t.logs.length).toBe(10_001);
    expect(t.logs.at(-1)?.line).toMatch(/^\[pacer: \d+ lines dropped\]$/);
  });

  it('refuses paths over PATH_MAX, and poll_oneoff over its subscription bound', () => {
    const t = setUp();
    expect(t.call('path_open', 3, 0, 0, 5000, 1, 0x42n, 0n, 0, 500)).toBe(Errno.NAMETOOLONG);
    expect(t.call('path_create_directory', 3, 0, 60_000)).toBe(Errno.NAMETOOLONG);
    expect(t.call('poll_oneoff', 0, 0, 5000, 500)).toBe(Errno.INVAL);
  });

  it('reads i32 arguments as unsigned: a pointer above 2 GiB is a pointer', () => {
    const t = setUp({ pages: 32_769 });
    const high = 2 ** 31 + 1024;
    // The engine hands an i32 over signed: this is how `high` arrives.
    expect(t.call('random_get', high | 0, 64)).toBe(Errno.SUCCESS);
    expect(new Uint8Array(t.view().buffer, high, 64).some((b) => b !== 0)).toBe(true);
    expect(t.call('clock_time_get', 1, 1n, (high + 128) | 0)).toBe(Errno.SUCCESS);
  });

  it('fills a large random_get in chunks', () => {
    const t = setUp({ pages: 4 });
    expect(t.call('random_get', 0, 4 * 65_536)).toBe(Errno.SUCCESS);
    const tail = new Uint8Array(t.view().buffer, 4 * 65_536 - 64, 64);
    expect(tail.some((b) => b !== 0)).toBe(true);
  });
});

describe('WASI host disk quota: exact, by real allocation', () => {
  it('refuses fd_pwrite at offset -1 (EINVAL) and past the largest file (EFBIG), writing nothing', () => {
    const t = setUp();
    const [, fd] = t.open('far.bin', CREAT, 0x42n);
    expect(t.writeBytes(fd, 1, -1n)).toBe(Errno.INVAL);
    expect(t.writeBytes(fd, 1, 2n ** 62n)).toBe(Errno.FBIG);
    expect(t.call('fd_filestat_set_size', fd, 2n ** 62n)).toBe(Errno.FBIG);
    expect(t.call('fd_allocate', fd, 2n ** 61n, 2n ** 61n)).toBe(Errno.FBIG);
    expect(statSync(path.join(t.sandboxDir, 'far.bin')).size).toBe(0);
  });

  it('checks a write before it happens: one over the quota writes nothing', () => {
    const t = setUp({ diskQuotaBytes: 64 * 1024, pages: 2 });
    const [, fd] = t.open('big.bin', CREAT, 0x42n);
    expect(t.writeBytes(fd, 100_000)).toBe(Errno.DQUOT);
    expect(statSync(path.join(t.sandboxDir, 'big.bin')).size).toBe(0);
  });

  it('charges a sparse write far past the end by the blocks it allocates', () => {
    const t = setUp({ diskQuotaBytes: 1024 * 1024, pages: 2 });
    const [, fd] = t.open('sparse.bin', CREAT, 0x42n);
    expect(t.writeBytes(fd, 1, 100n * 2n ** 30n)).toBe(Errno.SUCCESS);
    expect(statSync(path.join(t.sandboxDir, 'sparse.bin')).size).toBe(100 * 2 ** 30 + 1);
    // The 100 GiB hole costs nothing: most of the quota is still there.
    expect(t.writeBytes(fd, 100_000)).toBe(Errno.SUCCESS);
  });

  it('charges the files already in the sandbox when the task starts', () => {
    const quota = 256 * 1024;
    const artifacts = (dir: string) =>
      writeFileSync(path.join(dir, 'app.bin'), randomBytes(200_000));
    const empty = setUp({ diskQuotaBytes: quota, pages: 2 });
    const full = setUp({ diskQuotaBytes: quota, pages: 2, prepare: artifacts });
    for (const [t, expected] of [
      [empty, Errno.SUCCESS],
      [full, Errno.DQUOT],
    ] as const) {
      const [, fd] = t.open('out.bin', CREAT, 0x42n);
      expect(t.writeBytes(fd, 100_000)).toBe(expected);
    }
  });

  it('charges every file and directory a fixed cost, so empty names cannot fill the disk', () => {
    const t = setUp({ diskQuotaBytes: 64 * 1024 });
    let made = 0;
    let errno: number = Errno.SUCCESS;
    while (errno === Errno.SUCCESS && made < 1000) {
      const [p, n] = t.put(`d${made}`);
      errno = t.call('path_create_directory', 3, p, n);
      if (errno === Errno.SUCCESS) made++;
    }
    expect(errno).toBe(Errno.DQUOT);
    expect(made).toBeLessThan((64 * 1024) / ENTRY_BYTES);
    let files = 0;
    for (; files < 1000; files++) {
      const [e] = t.open(`f${files}`, CREAT, 0x42n);
      if (e !== Errno.SUCCESS) break;
    }
    expect(files).toBeLessThan((64 * 1024) / ENTRY_BYTES);
  });

  it('keeps an unlinked file charged until its last fd closes', () => {
    const t = setUp({ diskQuotaBytes: 1024 * 1024, pages: 2 });
    const [, a] = t.open('a.bin', CREAT, 0x42n);
    for (let i = 0; i < 6; i++) expect(t.writeBytes(a, 100_000)).toBe(Errno.SUCCESS);
    const [name, length] = t.put('a.bin');
    expect(t.call('path_unlink_file', 3, name, length)).toBe(Errno.SUCCESS);
    const [, b] = t.open('b.bin', CREAT, 0x42n);
    let written = 0;
    while (t.writeBytes(b, 100_000) === Errno.SUCCESS) written++;
    // The 600 KB of a.bin are still on disk while fd `a` holds them.
    expect(written).toBeLessThan(5);
    expect(t.call('fd_close', a)).toBe(Errno.SUCCESS);
    expect(t.writeBytes(b, 100_000)).toBe(Errno.SUCCESS);
  });
});

describe('WASI host fuel', () => {
  it('charges every host call HOST_CALL_FUEL plus fuelForBytes of the guest bytes it touched', () => {
    const charges: number[] = [];
    const t = setUp({ chargeFuel: (units) => charges.push(units) });
    t.call('sched_yield');
    t.call('random_get', 100, 800);
    t.writeBytes(1, 4096);
    t.call('fd_write', 99, 600, 1, 610);
    t.call('random_get', 65_000, 1_000);
    expect(charges).toEqual([
      HOST_CALL_FUEL,
      HOST_CALL_FUEL + fuelForBytes(800),
      HOST_CALL_FUEL + fuelForBytes(4096),
      // a refused call still costs its entry
      HOST_CALL_FUEL,
      HOST_CALL_FUEL,
    ]);
  });
});

describe('WASI host, built at the first call', () => {
  const options = (overrides: Partial<Parameters<typeof createWasiHost>[0]> = {}) => ({
    args: ['task.wasm'],
    env: {},
    sandboxDir: mkdtempSync(path.join(os.tmpdir(), 'wasi-host-lazy-')),
    maxLogLineBytes: 64,
    diskQuotaBytes: 1024 * 1024,
    control: new Int32Array(new SharedArrayBuffer(4)),
    onLog: () => undefined,
    ...overrides,
  });

  it('offers only the imported names of the allow-list, so an unknown name does not link', () => {
    const host = createWasiHost(options({ importNames: ['fd_write', 'proc_exit', 'env_system'] }));
    expect(Object.keys(host.imports).sort()).toEqual(['fd_write', 'proc_exit']);
    expect(Object.keys(createWasiHost(options()).imports)).toHaveLength(
      Object.keys(wasiSignatures).length,
    );
  });

  it('answers its first call with the memory set before it, and logs what was written', () => {
    const logs: string[] = [];
    const host = createWasiHost(
      options({ importNames: ['fd_write'], onLog: (_, lines) => logs.push(...lines) }),
    );
    const memory = new WebAssembly.Memory({ initial: 1 });
    host.setMemory(memory);
    const text = new TextEncoder().encode('first call\n');
    new Uint8Array(memory.buffer).set(text, 64);
    const view = new DataView(memory.buffer);
    view.setUint32(0, 64, true);
    view.setUint32(4, text.length, true);
    const fdWrite = host.imports.fd_write as (...args: number[]) => number;
    expect(fdWrite(1, 0, 1, 16)).toBe(Errno.SUCCESS);
    expect(view.getUint32(16, true)).toBe(text.length);
    host.close();
    expect(logs).toEqual(['first call']);
  });

  it('closes and captures nothing when the guest never called it', () => {
    const host = createWasiHost(options({ captureStdoutBytes: 100 }));
    host.close();
    expect(host.stdout()).toEqual(new Uint8Array(0));
  });
});
