// A sandbox made on first need never writes through what is already at a file's name: a symlink a
// task left there (a sandbox of the same task, from an earlier agent process) is replaced, and
// the file it pointed at, outside the sandbox, stays as it was.
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSandbox } from './sandbox-files.js';

describe('makeSandbox', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces a symlink or a directory at a file name instead of writing through it', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pacer-sandbox-files-'));
    const cached = path.join(dir, 'cached.wasm');
    const outside = path.join(dir, 'outside.txt');
    writeFileSync(cached, 'module bytes');
    writeFileSync(outside, 'keep me');
    const sandboxDir = path.join(dir, 'sandbox');
    mkdirSync(path.join(sandboxDir, 'dir.wasm'), { recursive: true });
    writeFileSync(path.join(sandboxDir, 'dir.wasm', 'inner'), 'x');
    symlinkSync(outside, path.join(sandboxDir, 'link.wasm'));

    makeSandbox(sandboxDir, [
      { name: 'link.wasm', from: cached, isExecutable: false },
      { name: 'dir.wasm', from: cached, isExecutable: true },
    ]);

    expect(readFileSync(outside, 'utf8')).toBe('keep me');
    for (const name of ['link.wasm', 'dir.wasm']) {
      const target = path.join(sandboxDir, name);
      expect(lstatSync(target).isFile()).toBe(true);
      expect(readFileSync(target, 'utf8')).toBe('module bytes');
    }
    expect(lstatSync(path.join(sandboxDir, 'dir.wasm')).mode & 0o777).toBe(0o755);
  });
});
