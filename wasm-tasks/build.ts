// Builds the example and adversarial Wasm tasks: every wasm-tasks/*.wat → wasm-tasks/build/*.wasm
// (wabt from npm, deterministic), plus the few modules that are not text (garbage bytes).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const here = dirname(fileURLToPath(import.meta.url));
export const buildDir = join(here, 'build');

/** Sources and the module each one builds. */
function sources(): { source: string; output: string }[] {
  return readdirSync(here)
    .filter((name) => name.endsWith('.wat'))
    .map((name) => ({
      source: join(here, name),
      output: join(buildDir, `${basename(name, '.wat')}.wasm`),
    }));
}

function isStale(source: string, output: string): boolean {
  try {
    return statSync(output).mtimeMs < statSync(source).mtimeMs;
  } catch {
    return true;
  }
}

/** Builds what is missing or older than its source (all when `force`); returns the files written. */
export async function buildWasmTasks(options: { force?: boolean } = {}): Promise<string[]> {
  mkdirSync(buildDir, { recursive: true });
  const wabt = await wabtInit();
  const written: string[] = [];
  for (const { source, output } of sources()) {
    if (!options.force && !isStale(source, output)) continue;
    const module = wabt.parseWat(basename(source), readFileSync(source, 'utf8'), {
      exceptions: true,
      tail_call: true,
      bulk_memory: true,
      sign_extension: true,
      sat_float_to_int: true,
      mutable_globals: true,
      multi_value: true,
      reference_types: true,
      simd: true,
    });
    module.validate();
    const { buffer } = module.toBinary({ write_debug_names: false });
    module.destroy();
    writeFileSync(output, buffer);
    written.push(output);
  }
  written.push(...buildCTasks(options.force === true));
  // Not a module at all: a fixed, deterministic pseudo-random byte string.
  const garbage = join(buildDir, 'garbage.wasm');
  if (options.force || isStale(fileURLToPath(import.meta.url), garbage)) {
    const bytes = Buffer.alloc(256);
    let x = 0x12345678;
    for (let i = 0; i < bytes.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    writeFileSync(garbage, bytes);
    written.push(garbage);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = await buildWasmTasks({ force: process.argv.includes('--force') });
  console.log(`wasm-tasks: built ${written.length} module(s) into ${buildDir}`);
}

/**
 * wasm-tasks/c/*.c → build/*.wasm with clang's wasm32-wasi target and wasi-libc (the services
 * of socket and handler mode). Skipped, with a note, where clang or its sysroot is missing.
 */
function buildCTasks(force: boolean): string[] {
  const dir = join(here, 'c');
  const written: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.c'))) {
    const source = join(dir, name);
    const output = join(buildDir, `${basename(name, '.c')}.wasm`);
    if (!force && !isStale(source, output)) continue;
    try {
      execFileSync(
        'clang',
        ['--target=wasm32-wasi', '-O2', '-Wall', '-Wl,--strip-all', source, '-o', output],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      written.push(output);
    } catch (error) {
      console.warn(
        `wasm-tasks: cannot build ${name} (clang --target=wasm32-wasi): ${String(error)}`,
      );
    }
  }
  return written;
}
