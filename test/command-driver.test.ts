// The command driver on real processes: real bubblewrap, the real cgroup v1 memory controller
// (or ulimit -v), real signals, and a real agent process that dies and is recovered from.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import {
  canUseMemoryCgroup,
  createCommandDriver,
  isProcessRunning,
  listProcessGroup,
  type CommandDriver,
  type CommandDriverOptions,
} from '../src/runtime/command/index.js';
import type { TaskHandle, TaskLimits, TaskSpec } from '../src/runtime/driver.js';
import { describeDriverConformance, type FixtureInput } from './support/driver-conformance.js';
import { hasCommand, hasService } from './support/services.js';
import { waitFor } from './support/wait-for.js';

type Line = { stream: 'stdout' | 'stderr'; line: string };

let root: string;
const roots: string[] = [];
const hasBubblewrap = await hasCommand('bwrap', ['--version']);
const hasCgroup = await canUseMemoryCgroup();
const hasClang = await hasCommand('clang', ['--version']);
const hasRedis = await hasService('redis');
const hasPasta = await hasCommand('pasta', ['--version']);

/** A TCP port free on the host right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A fresh directory tree that a task user (nobody) can traverse. */
async function newRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pacer-command-'));
  await chmod(dir, 0o755);
  roots.push(dir);
  return dir;
}

async function newSandbox(): Promise<string> {
  const dir = path.join(root, 'sandboxes', randomUUID());
  await mkdir(dir, { recursive: true });
  return dir;
}

function newTaskId(label: string): string {
  return `cmd_${label}.instance-${randomUUID()}._app.1`;
}

/** A spec with small limits; `lines` collects what onLog receives. */
async function commandSpec(
  cmd: string,
  overrides: Omit<Partial<TaskSpec>, 'limits'> & { limits?: Partial<TaskLimits> } = {},
): Promise<{ spec: TaskSpec; lines: Line[] }> {
  const lines: Line[] = [];
  const { limits, ...rest } = overrides;
  const spec: TaskSpec = {
    taskId: newTaskId('t'),
    kind: 'command',
    sandboxDir: await newSandbox(),
    cmd,
    env: { GREETING: 'hello' },
    limits: { cpus: 0.1, memMiB: 64, diskMiB: 64, killGracePeriodMs: 2000, ...limits },
    ports: [],
    labels: {},
    onLog: (stream, line) => lines.push({ stream, line }),
    ...rest,
  };
  return { spec, lines };
}

const hasLine = (lines: Line[], text: string) => lines.some((l) => l.line === text);

beforeAll(async () => {
  root = await newRoot();
});
afterAll(async () => {
  for (const dir of roots) await rm(dir, { recursive: true, force: true });
});

function conformanceFixtures(sandbox: () => Promise<string>) {
  const spec = async (input: FixtureInput, cmd: string): Promise<TaskSpec> => ({
    taskId: input.taskId,
    kind: 'command',
    sandboxDir: await sandbox(),
    cmd,
    env: {},
    limits: { cpus: 0.1, memMiB: 64, diskMiB: 64, killGracePeriodMs: 2000 },
    ports: [],
    labels: {},
    onLog: input.onLog,
  });
  return {
    printsHelloAndExits0: (input: FixtureInput) => spec(input, 'echo hello'),
    exits3: (input: FixtureInput) => spec(input, 'exit 3'),
    runsForever: (input: FixtureInput) => spec(input, 'exec sleep 1000'),
  };
}

if (hasBubblewrap) {
  describeDriverConformance('command (bubblewrap)', {
    create: async () =>
      createCommandDriver({
        logger: silentLogger(),
        stateDir: path.join(await newRoot(), 'state'),
        useBubblewrap: true,
      }),
    fixtures: conformanceFixtures(async () => {
      const dir = path.join(await newRoot(), 'sandbox');
      await mkdir(dir);
      return dir;
    }),
  });
}

describeDriverConformance('command (no bubblewrap)', {
  create: async () =>
    createCommandDriver({
      logger: silentLogger(),
      stateDir: path.join(await newRoot(), 'state'),
      useBubblewrap: false,
    }),
  fixtures: conformanceFixtures(async () => {
    const dir = path.join(await newRoot(), 'sandbox');
    await mkdir(dir);
    return dir;
  }),
});

describe.each([
  ...(hasBubblewrap ? [{ name: 'bubblewrap', useBubblewrap: true }] : []),
  { name: 'no bubblewrap', useBubblewrap: false },
])('command driver ($name)', ({ useBubblewrap }) => {
  let driver: CommandDriver;
  const create = async (extra: Partial<CommandDriverOptions> = {}) =>
    createCommandDriver({
      logger: silentLogger(),
      stateDir: path.join(root, `state-${useBubblewrap}`),
      useBubblewrap,
      diskCheckIntervalMs: 100,
      pollIntervalMs: 50,
      ...extra,
    });
  beforeAll(async () => {
    driver = await create();
  });
  afterAll(async () => {
    await driver.close();
  });

  it('runs cmd in the sandbox with its env, as nobody, and keeps stdout and stderr in sandbox files', async () => {
    const { spec, lines } = await commandSpec(
      'echo "$GREETING from $(pwd)"; id -u; echo oops >&2; exit 0',
    );
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FINISHED', exitCode: 0 });
    expect(lines).toContainEqual({ stream: 'stdout', line: `hello from ${spec.sandboxDir}` });
    expect(lines).toContainEqual({ stream: 'stdout', line: '65534' });
    expect(lines).toContainEqual({ stream: 'stderr', line: 'oops' });
    expect(await readFile(path.join(spec.sandboxDir, 'stdout'), 'utf8')).toBe(
      `hello from ${spec.sandboxDir}\n65534\n`,
    );
    expect(await readFile(path.join(spec.sandboxDir, 'stderr'), 'utf8')).toBe('oops\n');
    await driver.destroy(spec.taskId);
  });

  it('runs args as argv without a shell', async () => {
    const { spec, lines } = await commandSpec('unused', {
      cmd: undefined,
      args: ['printf', '%s|', 'a b', '$HOME'],
    });
    await driver.start(spec);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
    expect(lines).toContainEqual({ stream: 'stdout', line: 'a b|$HOME|' });
    await driver.destroy(spec.taskId);
  });

  it('reports exit 3 as TASK_FAILED NONZERO_EXIT with the code in the message', async () => {
    const { spec } = await commandSpec('echo bye; exit 3');
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'NONZERO_EXIT', exitCode: 3 });
    expect(exit.message).toBe('NONZERO_EXIT: Command exited with status 3');
    await driver.destroy(spec.taskId);
  });

  it('cuts overlong lines into bounded pieces', async () => {
    const { spec, lines } = await commandSpec('head -c 10000 /dev/zero | tr "\\0" x; echo');
    await driver.start(spec);
    await driver.wait(spec.taskId);
    const stdout = lines.filter((l) => l.stream === 'stdout').map((l) => l.line.length);
    expect(stdout).toEqual([4096, 4096, 1808]);
    await driver.destroy(spec.taskId);
  });

  it('fails a command that needs more than mem with MEMORY_LIMIT', async () => {
    const { spec } = await commandSpec(
      'head -c 200000000 /dev/zero | tail -c 150000000 >/dev/null',
      {
        limits: { memMiB: 32 },
      },
    );
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit.state).toBe('TASK_FAILED');
    expect(exit.reason).toBe('MEMORY_LIMIT');
    expect(exit.message).toMatch(
      /^MEMORY_LIMIT: Command needed more memory than mem 32 MiB allows/,
    );
    await driver.destroy(spec.taskId);
  });

  it('enforces mem with an address-space limit where no cgroup is used', async () => {
    const ulimitDriver = await create({ memoryLimit: 'address-space' });
    const { spec } = await commandSpec(
      'head -c 200000000 /dev/zero | tail -c 150000000 >/dev/null',
      {
        limits: { memMiB: 32 },
      },
    );
    await ulimitDriver.start(spec);
    const exit = await ulimitDriver.wait(spec.taskId);
    expect(exit.reason).toBe('MEMORY_LIMIT');
    await ulimitDriver.destroy(spec.taskId);
    await ulimitDriver.close();
  });

  it('kills a command that ignores SIGTERM, with its whole group, once the grace period is over', async () => {
    const { spec, lines } = await commandSpec(
      // It says when TERM came, then keeps saying it is alive: the kill must wait for the grace.
      "trap 'echo term; termed=1' TERM; sleep 1000 & echo ready; " +
        'while :; do sleep 0.05; [ -n "$termed" ] && echo alive-after-term; done',
      { limits: { killGracePeriodMs: 1500 } },
    );
    const handle = await driver.start(spec);
    await waitFor(`the line 'ready'`, () => hasLine(lines, 'ready'));
    await driver.stop(spec.taskId);
    await waitFor('a line after TERM', () => hasLine(lines, 'alive-after-term'));
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_KILLED', reason: 'KILLED' });
    const pid = (handle.recoveryData as { pid: number }).pid;
    await waitFor('the group gone', async () => (await processesInGroup(pid)).length === 0);
    await driver.destroy(spec.taskId);
  });

  it('lets a command that handles SIGTERM end before the grace period', async () => {
    const { spec, lines } = await commandSpec(
      'trap "echo terminating; exit 0" TERM; echo ready; while :; do sleep 0.05; done',
      // Longer than the test may run: only the task's own exit can end it in time.
      { limits: { killGracePeriodMs: 600_000 } },
    );
    await driver.start(spec);
    await waitFor(`the line 'ready'`, () => hasLine(lines, 'ready'));
    await driver.stop(spec.taskId);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_KILLED');
    expect(hasLine(lines, 'terminating')).toBe(true);
    await driver.destroy(spec.taskId);
  });

  it('fails a command that runs past its timeout with TIMEOUT', async () => {
    const { spec } = await commandSpec('exec sleep 1000', {
      limits: { timeoutMs: 300, killGracePeriodMs: 100 },
    });
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'TIMEOUT' });
    expect(exit.message).toMatch(/^TIMEOUT: /);
    await driver.destroy(spec.taskId);
  });

  it('fails a command whose sandbox grows past disk with DISK_LIMIT', async () => {
    const { spec } = await commandSpec('head -c 3000000 /dev/zero > big; exec sleep 1000', {
      limits: { diskMiB: 1, killGracePeriodMs: 100 },
    });
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'DISK_LIMIT' });
    expect(exit.message).toMatch(/^DISK_LIMIT: the sandbox used \d+\.\d MiB, more than disk 1 MiB/);
    await driver.destroy(spec.taskId);
  });

  it('recovers a running command with a new driver instance and reports its exit', async () => {
    const { spec, lines } = await commandSpec(
      'echo before; while [ ! -e go ]; do sleep 0.05; done; echo after; exit 7',
    );
    const handle = await driver.start(spec);
    await waitFor(`the line 'before'`, () => hasLine(lines, 'before'));
    const second = await create();
    const recoveredLines: Line[] = [];
    expect(
      await second.recover(handle, (stream, line) => recoveredLines.push({ stream, line })),
    ).toBe(true);
    expect(second.inspect(spec.taskId)).toEqual(handle);
    await writeFile(path.join(spec.sandboxDir, 'go'), '');
    const exit = await second.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'NONZERO_EXIT', exitCode: 7 });
    expect(recoveredLines).toEqual([{ stream: 'stdout', line: 'after' }]);
    await second.destroy(spec.taskId);
    await second.close();
    await driver.wait(spec.taskId);
    await driver.destroy(spec.taskId);
  });
});

describe.skipIf(!hasBubblewrap)('command driver sandbox (bubblewrap)', () => {
  let driver: CommandDriver;
  beforeAll(async () => {
    driver = await createCommandDriver({
      logger: silentLogger(),
      stateDir: path.join(root, 'state-sandbox'),
      useBubblewrap: true,
    });
  });
  afterAll(async () => {
    await driver.close();
  });

  it('has no network without ports: a host listener is invisible', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    // /proc/net/* shows the sockets of the network namespace the reader is in.
    const cmd = `grep -c ':${hexPort} ' /proc/net/tcp; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '`;
    try {
      const isolated = await commandSpec(cmd);
      await driver.start(isolated.spec);
      await driver.wait(isolated.spec.taskId);
      expect(isolated.lines.map((l) => l.line)).toEqual(['0', 'lo']);
      await driver.destroy(isolated.spec.taskId);
    } finally {
      server.close();
    }
  });

  it.skipIf(!hasPasta || !hasRedis)(
    "serves its ports from a network of its own and cannot reach the agent's loopback (Redis)",
    async () => {
      const port = await freePort();
      const { spec, lines } = await commandSpec(
        [
          'echo served > index.html',
          // 6379: the agent's Redis on 127.0.0.1; the connect must fail inside the namespace.
          '(busybox nc -w 2 127.0.0.1 6379 </dev/null >/dev/null 2>&1 && echo "reached redis") || echo "no redis"',
          `echo "uid $(id -u)"`,
          `exec busybox httpd -f -p ${port} -h .`,
        ].join('; '),
        // pasta, the agent's helper, must not count against the task's small mem.
        { ports: [port], limits: { memMiB: 16 } },
      );
      await driver.start(spec);
      await waitFor(
        'the redis probe',
        () => hasLine(lines, 'no redis') || hasLine(lines, 'reached redis'),
      );
      let body = '';
      await waitFor('an answer', async () => {
        body = await fetch(`http://127.0.0.1:${port}/index.html`)
          .then((response) => response.text())
          .catch(() => '');
        return body !== '';
      });
      expect(body).toBe('served\n');
      expect(lines).toContainEqual({ stream: 'stdout', line: 'no redis' });
      expect(lines).toContainEqual({ stream: 'stdout', line: 'uid 65534' });
      await driver.destroy(spec.taskId);
    },
  );

  it('makes the sandbox the only writable place: system paths refuse writes, /tmp is private', async () => {
    const marker = `pacer-${randomUUID()}`;
    const targets = [
      '/',
      '/etc',
      '/usr',
      '/usr/local',
      '/var',
      '/root',
      '/home',
      '/proc/sys/kernel',
    ];
    const { spec, lines } = await commandSpec(
      [
        ...targets.map(
          (dir) =>
            `touch ${dir}/${marker} 2>/dev/null && echo "wrote ${dir}" || echo "refused ${dir}"`,
        ),
        `touch ./${marker} && echo "wrote sandbox"`,
        // /tmp (and the sandbox's parent, which lives in it here) is an in-memory tmpfs of the sandbox.
        `touch /tmp/${marker} ../${marker} && echo "wrote tmp"`,
        'cat /etc/shadow >/dev/null 2>&1 && echo "read shadow" || echo "no shadow"',
      ].join('; '),
    );
    await driver.start(spec);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
    expect(lines.map((l) => l.line)).toEqual([
      ...targets.map((dir) => `refused ${dir}`),
      'wrote sandbox',
      'wrote tmp',
      'no shadow',
    ]);
    await expect(stat(path.join('/tmp', marker))).rejects.toThrow(/ENOENT/);
    await expect(stat(path.join(spec.sandboxDir, '..', marker))).rejects.toThrow(/ENOENT/);
    expect((await stat(path.join(spec.sandboxDir, marker))).isFile()).toBe(true);
    await driver.destroy(spec.taskId);
  });

  it('gives the task its own pid namespace', async () => {
    const { spec, lines } = await commandSpec('echo $$; ls /proc | grep -c "^[0-9]"');
    await driver.start(spec);
    await driver.wait(spec.taskId);
    const [pid, count] = lines.map((l) => Number(l.line));
    expect(pid).toBeLessThan(10);
    expect(count).toBeLessThan(6);
    await driver.destroy(spec.taskId);
  });

  it.skipIf(!hasCgroup)(
    'puts the task in a memory cgroup with mem as its limit and removes it on destroy',
    async () => {
      const { spec, lines } = await commandSpec('echo ready; exec sleep 1000', {
        limits: { memMiB: 48 },
      });
      const handle = await driver.start(spec);
      await waitFor(`the line 'ready'`, () => hasLine(lines, 'ready'));
      const cgroupPath = (handle.recoveryData as { cgroupPath: string }).cgroupPath;
      expect(cgroupPath).toMatch(/\/pacer\/cmd_t\.instance-/);
      expect(await readFile(path.join(cgroupPath, 'memory.limit_in_bytes'), 'utf8')).toBe(
        `${48 * 1024 * 1024}\n`,
      );
      const procs = (await readFile(path.join(cgroupPath, 'cgroup.procs'), 'utf8'))
        .split('\n')
        .filter(Boolean);
      expect(procs.length).toBeGreaterThanOrEqual(2); // bwrap, its init and the task; never the wrapper
      expect(procs).not.toContain(String((handle.recoveryData as { pid: number }).pid));
      await driver.destroy(spec.taskId);
      await expect(stat(cgroupPath)).rejects.toThrow(/ENOENT/);
    },
  );
});

// Issue 11, rows 3 and 4, and the environment: a task owns its sandbox directory, so any path
// there may be a link to somewhere else by the time the agent (root) looks at it.
describe.each([
  ...(hasBubblewrap ? [{ name: 'bubblewrap', useBubblewrap: true }] : []),
  { name: 'no bubblewrap', useBubblewrap: false },
])('command driver against a hostile task ($name)', ({ useBubblewrap }) => {
  let driver: CommandDriver;
  /** Outside every sandbox, root-owned and not writable by nobody. */
  let outside: string;
  beforeAll(async () => {
    driver = await createCommandDriver({
      logger: silentLogger(),
      stateDir: path.join(root, `state-hostile-${useBubblewrap}`),
      useBubblewrap,
      pollIntervalMs: 50,
    });
    outside = await newRoot();
  });
  afterAll(async () => {
    await driver.close();
  });

  it('never appends to the target of a stdout symlink or hard link planted in the sandbox', async () => {
    const cron = path.join(outside, `cron-${randomUUID()}`);
    const linked = path.join(outside, `linked-${randomUUID()}`);
    await writeFile(cron, 'original\n');
    await writeFile(linked, 'original\n');
    const { spec, lines } = await commandSpec('echo "* * * * * root evil"; echo err >&2');
    await symlink(cron, path.join(spec.sandboxDir, 'stdout'));
    await link(linked, path.join(spec.sandboxDir, 'stderr'));
    await driver.start(spec);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
    expect(await readFile(cron, 'utf8')).toBe('original\n');
    expect(await readFile(linked, 'utf8')).toBe('original\n');
    // The two streams are separate files, followed apart: their lines have no order between them.
    const byStream = (stream: string) =>
      lines.filter((l) => l.stream === stream).map((l) => l.line);
    expect(byStream('stdout')).toEqual(['* * * * * root evil']);
    expect(byStream('stderr')).toEqual(['err']);
    expect(lines).toHaveLength(2);
    expect((await lstat(path.join(spec.sandboxDir, 'stdout'))).isFile()).toBe(true);
    await driver.destroy(spec.taskId);
  });

  it('keeps a command health check started beside the task from writing through its symlinked stdout', async () => {
    const cron = path.join(outside, `cron-${randomUUID()}`);
    await writeFile(cron, 'original\n');
    const task = await commandSpec(
      `rm stdout; ln -s ${cron} stdout; echo swapped; exec sleep 1000`,
    );
    await driver.start(task.spec);
    await waitFor(`the line 'swapped'`, () => hasLine(task.lines, 'swapped'));
    // What agent.ts does for a COMMAND health check: a short task in the same sandbox.
    const probe = await commandSpec('echo "probe as $(id -u)"', {
      sandboxDir: task.spec.sandboxDir,
    });
    await driver.start(probe.spec);
    expect((await driver.wait(probe.spec.taskId)).state).toBe('TASK_FINISHED');
    expect(probe.lines).toEqual([{ stream: 'stdout', line: 'probe as 65534' }]);
    expect(await readFile(cron, 'utf8')).toBe('original\n');
    await driver.destroy(probe.spec.taskId);
    await driver.destroy(task.spec.taskId);
  });

  it("never returns another file's contents when the task swaps its stdout for a symlink (also after a restart)", async () => {
    const secret = path.join(outside, `environ-${randomUUID()}`);
    await writeFile(secret, 'DATABASE_URL=postgres://agent:secret@db\n');
    const { spec, lines } = await commandSpec(
      [
        'echo before',
        `rm stdout; ln -s ${secret} stdout`,
        'echo after',
        'while [ ! -e go ]; do sleep 0.05; done',
        'echo later',
      ].join('; '),
    );
    const handle = await driver.start(spec);
    await waitFor(`the line 'after'`, () => hasLine(lines, 'after'));
    // A new agent process finds the task again: the path now leads to the secret.
    const second = await createCommandDriver({
      logger: silentLogger(),
      stateDir: path.join(root, `state-hostile-${useBubblewrap}`),
      useBubblewrap,
      pollIntervalMs: 50,
    });
    const recovered: Line[] = [];
    expect(await second.recover(handle, (stream, line) => recovered.push({ stream, line }))).toBe(
      true,
    );
    await writeFile(path.join(spec.sandboxDir, 'go'), '');
    await driver.wait(spec.taskId);
    await second.wait(spec.taskId);
    expect(lines.map((l) => l.line)).toEqual(['before', 'after', 'later']);
    expect(JSON.stringify(recovered)).not.toContain('secret');
    await driver.destroy(spec.taskId);
    await second.close();
  });

  it.skipIf(!hasClang)(
    "gives the task's environment (LD_PRELOAD) to the task only, never to the agent's helpers",
    async () => {
      const markers = await newRoot();
      const { spec, lines } = await commandSpec('echo ran');
      const library = path.join(spec.sandboxDir, 'preload.so');
      const source = path.join(spec.sandboxDir, 'preload.c');
      await writeFile(
        source,
        `#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) {
  char name[512];
  snprintf(name, sizeof name, "${markers}/loaded-by-%d", (int)getuid());
  FILE *file = fopen(name, "w");
  if (file) fclose(file);
}
`,
      );
      await new Promise<void>((resolve, reject) =>
        execFile('clang', ['-shared', '-fPIC', '-o', library, source], (error) =>
          error ? reject(new Error(error.message)) : resolve(),
        ),
      );
      spec.env = { ...spec.env, LD_PRELOAD: library };
      await driver.start(spec);
      expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
      expect(lines).toContainEqual({ stream: 'stdout', line: 'ran' });
      // The wrapper shell, setpriv and bwrap run as root or outside the sandbox: none loaded it.
      expect(await readdir(markers)).toEqual([]);
      await driver.destroy(spec.taskId);
    },
  );
});

describe('command driver recovery across a real agent restart', () => {
  const agentScript = (stateDir: string, spec: Omit<TaskSpec, 'onLog'>) => `
    import { createCommandDriver } from ${JSON.stringify(path.resolve('src/runtime/command/index.ts'))};
    import { silentLogger } from ${JSON.stringify(path.resolve('src/lib/index.ts'))};
    const driver = await createCommandDriver({ logger: silentLogger(), stateDir: ${JSON.stringify(stateDir)} });
    const handle = await driver.start({ ...${JSON.stringify(spec)}, onLog: () => {} });
    process.stdout.write(JSON.stringify(handle));
    process.exit(0);
  `;

  /** Starts the task from a separate agent process that then exits, as an agent restart does. */
  async function startInDyingAgent(stateDir: string, spec: TaskSpec): Promise<TaskHandle> {
    const { onLog: _onLog, ...plain } = spec;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', agentScript(stateDir, plain)],
        { timeout: 30_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    return JSON.parse(stdout) as TaskHandle;
  }

  it('finds a task started by an agent process that has exited, follows its logs and reports its exit', async () => {
    const stateDir = path.join(root, 'state-restart');
    const { spec } = await commandSpec(
      'echo before; while [ ! -e go ]; do sleep 0.05; done; echo after; exit 5',
    );
    const handle = await startInDyingAgent(stateDir, spec);
    const driver = await createCommandDriver({
      logger: silentLogger(),
      stateDir,
      pollIntervalMs: 50,
    });
    const lines: Line[] = [];
    expect(await driver.recover(handle, (stream, line) => lines.push({ stream, line }))).toBe(true);
    await writeFile(path.join(spec.sandboxDir, 'go'), '');
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'NONZERO_EXIT', exitCode: 5 });
    expect(lines).toEqual([{ stream: 'stdout', line: 'after' }]);
    expect(await readFile(path.join(spec.sandboxDir, 'stdout'), 'utf8')).toBe('before\nafter\n');
    await driver.destroy(spec.taskId);
    await driver.close();
  });

  it('reports the exit of a task that ended while no agent ran', async () => {
    const stateDir = path.join(root, 'state-restart');
    const { spec } = await commandSpec('exit 0');
    const handle = await startInDyingAgent(stateDir, spec);
    await waitFor('the wrapper to exit', () => hasWrapperExited(handle));
    const driver = await createCommandDriver({ logger: silentLogger(), stateDir });
    expect(await driver.recover(handle)).toBe(true);
    expect(await driver.wait(spec.taskId)).toMatchObject({ state: 'TASK_FINISHED', exitCode: 0 });
    await driver.destroy(spec.taskId);
    await driver.close();
  });

  it('answers false for a task that vanished without a status', async () => {
    const stateDir = path.join(root, 'state-restart');
    const { spec } = await commandSpec('exec sleep 1000');
    const handle = await startInDyingAgent(stateDir, spec);
    const pid = (handle.recoveryData as { pid: number }).pid;
    process.kill(-pid, 'SIGKILL');
    await waitFor('the wrapper to exit', () => hasWrapperExited(handle));
    const driver = await createCommandDriver({ logger: silentLogger(), stateDir });
    expect(await driver.recover(handle)).toBe(false);
    expect(driver.inspect(spec.taskId)).toBeUndefined();
    await driver.close();
  });
});

async function processesInGroup(pgid: number): Promise<number[]> {
  return (await listProcessGroup(pgid)).map((p) => p.pid);
}

/** The wrapper of a handle has exited (a zombie left to a reaper counts as exited). */
async function hasWrapperExited(handle: TaskHandle): Promise<boolean> {
  const { pid, startTicks } = handle.recoveryData as { pid: number; startTicks: number };
  return !(await isProcessRunning(pid, startTicks));
}
