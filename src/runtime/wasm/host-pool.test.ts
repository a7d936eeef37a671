// Reused WASI hosts (handler mode): a host taken again for another run holds nothing of the run
// before it (files, fds, stdio, args, env, sandbox, memory), and the pool hands kept hosts out.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHostPool } from './host-pool.js';
import { Errno } from './wasi-errno.js';
import type { WasiHost, WasiHostOptions } from './wasi-host.js';

/** The options of one handler run over a fresh sandbox holding `file.txt` with `content`. */
function runOptions(content: string, extra: Partial<WasiHostOptions> = {}): WasiHostOptions {
  const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'host-pool-'));
  writeFileSync(path.join(sandboxDir, 'file.txt'), content);
  return {
    args: ['handler.wasm'],
    env: {},
    sandboxDir,
    maxLogLineBytes: 64,
    diskQuotaBytes: 1024 * 1024,
    control: new Int32Array(new SharedArrayBuffer(8)),
    onLog: () => undefined,
    captureStdoutBytes: 1024,
    ...extra,
  };
}

/** Calls on `host` over a fresh 1-page memory. */
function guest(host: WasiHost) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  host.setMemory(memory);
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const call = (name: string, ...args: (number | bigint)[]) =>
    (host.imports[name] as (...a: (number | bigint)[]) => number)(...args);
  const put = (at: number, text: string): number => {
    const encoded = new TextEncoder().encode(text);
    bytes().set(encoded, at);
    return encoded.length;
  };
  const text = (at: number, length: number) =>
    new TextDecoder().decode(bytes().slice(at, at + length));
  return {
    call,
    view,
    put,
    text,
    /** Opens `name` under the preopen (fd 3) for reading; returns [errno, fd]. */
    open(name: string): [number, number] {
      const n = put(1000, name);
      const errno = call('path_open', 3, 0, 1000, n, 0, 0x2n, 0n, 0, 500);
      return [errno, view().getUint32(500, true)];
    },
    /** Reads up to 64 bytes of `fd` (through one iovec at 2000). */
    read(fd: number): [number, string] {
      view().setUint32(600, 2000, true);
      view().setUint32(604, 64, true);
      const errno = call('fd_read', fd, 600, 1, 610);
      return [errno, text(2000, view().getUint32(610, true))];
    },
    /** Writes `content` to stdout. */
    print(content: string): number {
      const n = put(3000, content);
      view().setUint32(600, 3000, true);
      view().setUint32(604, n, true);
      return call('fd_write', 1, 600, 1, 610);
    },
    /** The whole environment block, as `K=V` strings. */
    env(): string[] {
      call('environ_sizes_get', 100, 104);
      const count = view().getUint32(100, true);
      const size = view().getUint32(104, true);
      call('environ_get', 200, 4000);
      return Array.from({ length: count }, (_, i) => {
        const at = view().getUint32(200 + i * 4, true);
        return text(at, 4000 + size - at).split('\0')[0] as string;
      });
    },
  };
}

describe('host pool', () => {
  it('hands out a kept host again, as new as a fresh one', () => {
    const pool = createHostPool();
    const first = runOptions('first run', {
      env: { WHO: 'first', ONLY_FIRST: 'x' },
      stdin: new Uint8Array([65]),
    });
    const host = pool.take(first);
    const one = guest(host);
    const [errno, fd] = one.open('file.txt');
    expect(errno).toBe(Errno.SUCCESS);
    expect(one.read(fd)).toEqual([Errno.SUCCESS, 'first run']);
    // A second file left open, and output, when the run ends.
    expect(one.open('file.txt')[0]).toBe(Errno.SUCCESS);
    expect(one.print('from the first\n')).toBe(Errno.SUCCESS);
    expect(one.env()).toEqual(['WHO=first', 'ONLY_FIRST=x']);
    host.close();
    expect(new TextDecoder().decode(host.stdout())).toBe('from the first\n');
    pool.give(host);
    expect(pool.size).toBe(1);

    const second = runOptions('second run', {
      env: { WHO: 'sécond' },
      stdin: new Uint8Array([66]),
    });
    const again = pool.take(second);
    expect(again).toBe(host);
    expect(pool.size).toBe(0);
    // No memory until the new instance's is set: a call is EFAULT, not the last run's bytes.
    expect((again.imports.environ_sizes_get as (a: number, b: number) => number)(100, 104)).toBe(
      Errno.FAULT,
    );
    const two = guest(again);
    // The files the last run left open are closed; the preopen is the new sandbox.
    expect(two.read(fd)[0]).toBe(Errno.BADF);
    const [errno2, fd2] = two.open('file.txt');
    expect(errno2).toBe(Errno.SUCCESS);
    expect(fd2).toBe(fd);
    expect(two.read(fd2)).toEqual([Errno.SUCCESS, 'second run']);
    expect(two.read(0)).toEqual([Errno.SUCCESS, 'B']);
    expect(two.env()).toEqual(['WHO=sécond']);
    expect(two.print('from the second\n')).toBe(Errno.SUCCESS);
    again.close();
    expect(new TextDecoder().decode(again.stdout())).toBe('from the second\n');
    pool.give(again);
  });

  it('blanks a host given back, and keeps no more than it may', () => {
    const pool = createHostPool({ maxKept: 1 });
    const a = pool.take(runOptions('a'));
    const b = pool.take(runOptions('b'));
    expect(b).not.toBe(a);
    guest(a).print('held\n');
    a.close();
    pool.give(a);
    // Blank while kept: no output of its run, no memory.
    expect(a.stdout()).toEqual(new Uint8Array(0));
    b.close();
    pool.give(b);
    expect(pool.size).toBe(1);
  });

  it('refuses a run with sockets', () => {
    const pool = createHostPool();
    const net = { listenerCount: 1 } as unknown as WasiHostOptions['net'];
    expect(() => pool.take(runOptions('x', { net }))).toThrow(/sockets/);
  });
});
