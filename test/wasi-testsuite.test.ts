// The official WASI preview 1 conformance suite (../shared/wasi-testsuite) run through the Wasm
// driver as an agent runs a task: one test per suite program, expected failures listed with a reason.
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskSpec } from '../src/runtime/index.js';
import { available } from './support/services.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// WASI_TESTSUITE_DIR when set (and then only it); else CI's layout (shared/ beside the clone),
// then this machine's (worktrees under /work/wt, shared/ in /work).
const suiteDir = (
  process.env.WASI_TESTSUITE_DIR !== undefined
    ? [process.env.WASI_TESTSUITE_DIR]
    : [join(repoRoot, '..', 'shared', 'wasi-testsuite'), '/work/shared/wasi-testsuite']
).find((dir) => existsSync(join(dir, 'tests')));
const languages = ['assemblyscript', 'c', 'rust'];

/** What a suite program expects (its NAME.json; README of the suite). */
interface SuiteCase {
  name: string;
  wasmPath: string;
  args: string[];
  env: Record<string, string>;
  root?: string;
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

function suiteCases(dir: string): SuiteCase[] {
  return languages.flatMap((language) => {
    const folder = join(dir, 'tests', language, 'testsuite', 'wasm32-wasip1');
    return readdirSync(folder)
      .filter((file) => file.endsWith('.wasm'))
      .sort()
      .map((file) => {
        const stem = file.slice(0, -'.wasm'.length);
        const jsonPath = join(folder, `${stem}.json`);
        const json = (
          existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : {}
        ) as Partial<{
          args: string[];
          env: Record<string, string>;
          root: string;
          exit_code: number;
          stdout: string;
          stderr: string;
        }>;
        return {
          name: `${language}/${stem}`,
          wasmPath: join(folder, file),
          args: json.args ?? [],
          env: json.env ?? {},
          root: json.root === undefined ? undefined : join(folder, json.root),
          exitCode: json.exit_code ?? 0,
          stdout: json.stdout,
          stderr: json.stderr,
        };
      });
  });
}

/** Checked-in list of suite programs Pacer fails on purpose: name → reason. */
const expectedFailures = JSON.parse(
  readFileSync(join(repoRoot, 'wasm-tasks', 'wasi-testsuite-expectations.json'), 'utf8'),
) as Record<string, string>;

const isSuitePresent = available(
  suiteDir !== undefined,
  'the WASI test suite is not at ../shared/wasi-testsuite (set WASI_TESTSUITE_DIR)',
);
const cases = suiteDir === undefined ? [] : suiteCases(suiteDir);

const driver = createWasmDriver({
  logger: silentLogger(),
  poolSize: 2,
  defaultFuel: 10n ** 12n,
  defaultTimeoutMs: 60_000,
});
afterAll(() => driver.close());

function makeWritable(path: string): void {
  const stat = statSync(path);
  chmodSync(path, stat.mode | 0o200);
  if (stat.isDirectory()) for (const name of readdirSync(path)) makeWritable(join(path, name));
}

/** Runs one program as a task: its root copied fresh into the sandbox, which is the preopen `/`. */
async function runCase(c: SuiteCase) {
  const sandboxDir = mkdtempSync(join(tmpdir(), 'pacer-wasi-suite-'));
  if (c.root) {
    cpSync(c.root, sandboxDir, { recursive: true });
    // The suite's files are read-only; a task owns its sandbox (as it would as any user).
    makeWritable(sandboxDir);
  }
  // The module must be in the sandbox (argv[0]); a name no suite program looks for.
  const moduleName = `pacer-suite-${basename(c.wasmPath)}`;
  cpSync(c.wasmPath, join(sandboxDir, moduleName));
  const output = { stdout: [] as string[], stderr: [] as string[] };
  const spec: TaskSpec = {
    kind: 'wasm',
    taskId: `wasi-suite-${c.name.replace('/', '-')}`,
    sandboxDir,
    args: [moduleName, ...c.args],
    env: c.env,
    limits: { cpus: 0.1, memMiB: 256, diskMiB: 64, killGracePeriodMs: 0 },
    ports: [],
    labels: {},
    onLog: (stream, line) => output[stream].push(line),
  };
  await driver.start(spec);
  const exit = await driver.wait(spec.taskId);
  await driver.destroy(spec.taskId);
  return { exit, output };
}

/** True when the run met everything the suite expects of it; otherwise throws with what differed. */
async function expectConformant(c: SuiteCase): Promise<void> {
  const { exit, output } = await runCase(c);
  const detail = `${exit.message}\nstdout: ${output.stdout.join('\n')}\nstderr: ${output.stderr.join('\n')}`;
  expect(exit.exitCode ?? (exit.state === 'TASK_FINISHED' ? 0 : undefined), detail).toBe(
    c.exitCode,
  );
  // Log lines lose the final newline; the suite's expected texts are compared the same way.
  if (c.stdout !== undefined) expect(output.stdout.join('\n')).toBe(c.stdout.replace(/\n$/, ''));
  if (c.stderr !== undefined) expect(output.stderr.join('\n')).toBe(c.stderr.replace(/\n$/, ''));
}

describe.skipIf(!isSuitePresent)('WASI preview 1 test suite', () => {
  it('finds all the suite programs and lists only existing ones as expected failures', () => {
    const names = new Set(cases.map((c) => c.name));
    expect(cases.length).toBe(72);
    for (const name of Object.keys(expectedFailures)) expect(names).toContain(name);
  });

  for (const c of cases) {
    const reason = expectedFailures[c.name];
    if (reason === undefined) {
      it(`passes ${c.name}`, () => expectConformant(c), 60_000);
    } else {
      it(`still fails ${c.name} on purpose (${reason})`, async () => {
        await expect(expectConformant(c)).rejects.toThrow();
      }, 60_000);
    }
  }
});
