import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errno } from './wasi-errno.js';
import { ProcExit, createWasiHost } from './wasi-host.js';

/** One host over a fresh sandbox and a 1-page memory, with helpers to place and read values. */
function setUp(
  options: { diskQuotaBytes?: number; args?: string[]; env?: Record<string, string> } = {},
) {
  const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'wasi-host-'));
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
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
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
  return { host, logs, sandboxDir, outside, call, put, u32, u64, text, open, write, view };
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

  it('stops writes past the disk quota', () => {
    const t = setUp({ diskQuotaBytes: 10 });
    const [, fd] = t.open('big.bin', CREAT, 0x42n);
    expect(t.write(fd, 'x'.repeat(64))).not.toBe(Errno.SUCCESS);
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
