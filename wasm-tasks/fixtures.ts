// Test helpers: a sandbox directory holding a built wasm-task, and a TaskSpec that runs it.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskSpec } from '../src/runtime/index.js';
import { buildDir } from './build.js';

/** Path of a built module, e.g. `wasmTaskPath('hello')`. */
export function wasmTaskPath(name: string): string {
  return join(buildDir, `${name}.wasm`);
}

/** A fresh sandbox directory containing `<name>.wasm`. */
export function sandboxWith(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pacer-wasm-${name}-`));
  copyFileSync(wasmTaskPath(name), join(dir, `${name}.wasm`));
  return dir;
}

/** A spec running `<module>.wasm` in a fresh sandbox; `overrides` replace any field. */
export function wasmTaskSpec(
  options: { module: string; taskId: string; args?: string[] } & Partial<TaskSpec>,
): TaskSpec {
  const { module, args, ...overrides } = options;
  return {
    kind: 'wasm',
    // Only a fresh sandbox when none is given (benchmarks reuse one: a copy per task is not the driver's cost).
    sandboxDir: overrides.sandboxDir ?? sandboxWith(module),
    cmd: [`${module}.wasm`, ...(args ?? [])].join(' '),
    env: {},
    limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0 },
    ports: [],
    labels: {},
    onLog: () => undefined,
    ...overrides,
  };
}
