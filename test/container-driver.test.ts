// The container driver on a real engine (podman with runc here) and a tiny local busybox image:
// exits, logs, limits, ports, kill grace and recovery. Skipped, loudly, only when no engine works.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBusyboxImage } from '../bench/command-busybox-image.js';
import { silentLogger } from '../src/lib/index.js';
import {
  TaskStartError,
  type TaskDriver,
  type TaskLimits,
  type TaskSpec,
} from '../src/runtime/driver.js';
import {
  containerRunArgs,
  createContainerDriver,
  detectContainerEngine,
  parseLogRecord,
} from '../src/runtime/container/index.js';
import { describeDriverConformance, type FixtureInput } from './support/driver-conformance.js';
import { available } from './support/services.js';
import { exchange } from './support/socket-exchange.js';
import { waitFor } from './support/wait-for.js';

type Line = { stream: 'stdout' | 'stderr'; line: string };
const run = promisify(execFile);

const detected = await detectContainerEngine('podman');
const engine = available(Boolean(detected), 'podman does not work on this host')
  ? detected
  : undefined;
const image = engine ? await ensureBusyboxImage({ engine: 'podman' }) : 'none';
const root = await mkdtemp(path.join(tmpdir(), 'pacer-container-'));
await chmod(root, 0o755);

async function newSandbox(): Promise<string> {
  const dir = path.join(root, 'sandboxes', randomUUID());
  await mkdir(dir, { recursive: true });
  return dir;
}

function baseSpec(taskId: string, sandboxDir: string, onLog: TaskSpec['onLog']): TaskSpec {
  return {
    taskId,
    kind: 'container',
    sandboxDir,
    cmd: 'true',
    env: {},
    limits: { cpus: 0.5, memMiB: 64, diskMiB: 64, killGracePeriodMs: 1000 },
    ports: [],
    container: { type: 'DOCKER', docker: { image }, volumes: [] },
    labels: {},
    onLog,
  };
}

async function containerSpec(
  cmd: string,
  overrides: Omit<Partial<TaskSpec>, 'limits'> & { limits?: Partial<TaskLimits> } = {},
): Promise<{ spec: TaskSpec; lines: Line[] }> {
  const lines: Line[] = [];
  const { limits, ...rest } = overrides;
  const base = baseSpec(
    `ctr_t.instance-${randomUUID()}._app.1`,
    await newSandbox(),
    (stream, line) => lines.push({ stream, line }),
  );
  return { spec: { ...base, cmd, ...rest, limits: { ...base.limits, ...limits } }, lines };
}

const hasLine = (lines: Line[], text: string) => lines.some((l) => l.line === text);
/** What a server on the host's `port` sends before it closes, once one answers there. */
const answerOn = (port: number): Promise<string> =>
  waitFor(`an answer on port ${port}`, async () => {
    const data = await exchange(port).catch(() => '');
    return data.length > 0 ? data : undefined;
  });
const create = () =>
  createContainerDriver({
    logger: silentLogger(),
    engine: 'podman',
    runtime: 'runc',
    stateDir: path.join(root, 'state'),
    diskCheckIntervalMs: 200,
    pollIntervalMs: 100,
  });

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('container run arguments and logs (no engine needed)', () => {
  const spec = (overrides: Partial<TaskSpec>): TaskSpec => ({
    ...baseSpec('app.instance-1._app.1', '/sb', () => {}),
    ...overrides,
  });
  const args = (s: TaskSpec) =>
    containerRunArgs({
      engine: 'podman',
      name: 'n',
      spec: s,
      pull: 'never',
      envFile: '/state/env',
      ulimits: [],
      sandboxMountPath: '/mnt/mesos/sandbox',
      hostAccess: { volumes: [], dockerParameters: [] },
    });

  it('weighs a container by cpus with --cpu-shares, and caps it with --cpus unless shares only', () => {
    const limits = { cpus: 0.5, memMiB: 0, diskMiB: 0, killGracePeriodMs: 1000 };
    const hard = args(spec({ limits }));
    expect(hard).toContain('--cpu-shares=512');
    expect(hard).toContain('--cpus=0.5');
    const shares = containerRunArgs({
      engine: 'podman',
      name: 'n',
      spec: spec({ limits }),
      pull: 'never',
      envFile: '/state/env',
      ulimits: [],
      sandboxMountPath: '/mnt/mesos/sandbox',
      hostAccess: { volumes: [], dockerParameters: [] },
      cpuLimit: 'shares',
    });
    expect(shares).toContain('--cpu-shares=512');
    expect(shares.some((arg) => arg.startsWith('--cpus='))).toBe(false);
  });

  it('maps portMappings to published ports in the order the agent assigned them', () => {
    const result = args(
      spec({
        ports: [31001, 31002],
        container: {
          type: 'DOCKER',
          docker: { image: 'img' },
          volumes: [],
          portMappings: [
            { containerPort: 80, hostPort: 0, protocol: 'tcp' },
            { containerPort: 9000 },
            { containerPort: 53, hostPort: 0, protocol: 'udp,tcp' },
          ],
        },
      }),
    );
    expect(result.join(' ')).toContain(
      '--network=bridge --publish=31001:80/tcp --publish=31002:53/udp --publish=31002:53/tcp',
    );
  });

  it('publishes the ports of a task without mappings to themselves, never on the host network', () => {
    const argv = args(spec({ ports: [31005, 31006] }));
    expect(argv.join(' ')).toContain(
      '--network=bridge --publish=31005:31005/tcp --publish=31006:31006/tcp',
    );
    expect(argv).not.toContain('--network=host');
    expect(args(spec({ ports: [] }))).toContain('--network=none');
  });

  it('runs cmd through /bin/sh replacing the entrypoint, and args after the image', () => {
    expect(args(spec({ cmd: 'echo hi' })).slice(-4)).toEqual([
      '--entrypoint=/bin/sh',
      image,
      '-c',
      'echo hi',
    ]);
    expect(args(spec({ cmd: undefined, args: ['a', 'b'] })).slice(-3)).toEqual([image, 'a', 'b']);
  });

  it('refuses absolute host volumes, privileged containers and raw docker parameters', () => {
    const withContainer = (container: Partial<NonNullable<TaskSpec['container']>>) =>
      spec({ container: { type: 'DOCKER', docker: { image: 'img' }, volumes: [], ...container } });
    expect(() =>
      args(withContainer({ volumes: [{ containerPath: '/d', hostPath: '/etc', mode: 'RO' }] })),
    ).toThrow(/host volume \/etc \(read-only\) is not allowed/);
    expect(() => args(withContainer({ docker: { image: 'img', privileged: true } }))).toThrow(
      /privileged/,
    );
    expect(() =>
      args(
        withContainer({ docker: { image: 'img', parameters: [{ key: 'cap-add', value: 'ALL' }] } }),
      ),
    ).toThrow(/docker parameter 'cap-add' is not allowed/);
    expect(
      args(withContainer({ volumes: [{ containerPath: '/data', hostPath: 'data', mode: 'RW' }] })),
    ).toContain('--volume=/sb/data:/data:rw');
  });

  // Issue 11, rows 1 and 2: no value of the app becomes a flag of the engine or a host path.
  it('refuses an image that is not an OCI reference, such as a flag, and puts a real one after every option', () => {
    const withImage = (value: string, extra: Partial<TaskSpec> = {}) =>
      spec({
        cmd: undefined,
        args: ['sh'],
        container: { type: 'DOCKER', docker: { image: value }, volumes: [] },
        ...extra,
      });
    for (const bad of ['--privileged', '-v/:/host', 'img --privileged', 'Upper', 'a:b:c', ' img']) {
      expect(() => args(withImage(bad)), bad).toThrow(/not an image reference/);
    }
    const reference = 'registry.example:5000/team/app:1.0@sha256:' + 'a'.repeat(64);
    const argv = args(withImage(reference, { labels: { '--privileged': '-v' } }));
    const at = argv.indexOf(reference);
    expect(argv.slice(at)).toEqual([reference, 'sh']);
    expect(argv.slice(0, at).every((arg) => arg === 'run' || arg.startsWith('--'))).toBe(true);
    expect(argv).toContain('--label=--privileged=-v');
  });

  it('refuses relative volumes that climb out of the sandbox, and separators in volume paths', () => {
    const withVolume = (volume: Record<string, string>) =>
      spec({ container: { type: 'DOCKER', docker: { image: 'img' }, volumes: [volume] } });
    for (const hostPath of ['../../../../..', 'a/../../x', '..', 'data:/etc', 'a,b']) {
      expect(
        () => args(withVolume({ containerPath: '/d', hostPath, mode: 'RW' })),
        hostPath,
      ).toThrow(/hostPath must/);
    }
    expect(() =>
      args(withVolume({ containerPath: '/d:/etc:rw', hostPath: 'data', mode: 'RW' })),
    ).toThrow(/must not contain/);
    expect(args(withVolume({ containerPath: '/d', hostPath: 'a/../b', mode: 'RO' }))).toContain(
      '--volume=/sb/b:/d:ro',
    );
  });

  it('passes host volumes and docker parameters only as far as the operator allowed them', () => {
    const input = (container: Partial<NonNullable<TaskSpec['container']>>) => ({
      engine: 'podman' as const,
      name: 'n',
      spec: spec({
        container: { type: 'DOCKER', docker: { image: 'img' }, volumes: [], ...container },
      }),
      pull: 'never' as const,
      envFile: '/state/env',
      ulimits: [],
      sandboxMountPath: '/mnt/mesos/sandbox',
      hostAccess: {
        volumes: [{ path: '/srv/data', isReadOnly: true }],
        dockerParameters: ['shm-size'],
      },
    });
    const ro = { containerPath: '/d', hostPath: '/srv/data/x', mode: 'RO' };
    expect(containerRunArgs(input({ volumes: [ro] }))).toContain('--volume=/srv/data/x:/d:ro');
    expect(() => containerRunArgs(input({ volumes: [{ ...ro, mode: 'RW' }] }))).toThrow(
      /read-write\) is not allowed/,
    );
    expect(() =>
      containerRunArgs(input({ volumes: [{ ...ro, hostPath: '/srv/data/../../etc' }] })),
    ).toThrow(/not allowed/);
    const shm = { image: 'img', parameters: [{ key: 'shm-size', value: '64m --privileged' }] };
    expect(containerRunArgs(input({ docker: shm }))).toContain('--shm-size=64m --privileged');
    expect(() =>
      containerRunArgs(
        input({ docker: { image: 'img', parameters: [{ key: 'privileged', value: 'true' }] } }),
      ),
    ).toThrow(/not allowed/);
  });

  it('parses k8s-file records, joining partial ones, and docker json-file records', () => {
    expect(parseLogRecord('k8s-file', '2026-01-01T00:00:00.1+00:00 stdout F hello world')).toEqual({
      stream: 'stdout',
      text: 'hello world\n',
    });
    expect(parseLogRecord('k8s-file', '2026-01-01T00:00:00.1+00:00 stderr P part')).toEqual({
      stream: 'stderr',
      text: 'part',
    });
    expect(parseLogRecord('k8s-file', '2026-01-01T00:00:00.1+00:00 stdout F')).toEqual({
      stream: 'stdout',
      text: '\n',
    });
    expect(parseLogRecord('json-file', '{"log":"x\\n","stream":"stderr","time":"t"}')).toEqual({
      stream: 'stderr',
      text: 'x\n',
    });
    expect(parseLogRecord('json-file', 'garbage')).toBeUndefined();
  });
});

if (engine) {
  describeDriverConformance('container (podman)', {
    create,
    fixtures: {
      printsHelloAndExits0: async ({ taskId, onLog }: FixtureInput) => ({
        ...baseSpec(taskId, await newSandbox(), onLog),
        cmd: 'echo hello',
      }),
      exits3: async ({ taskId, onLog }: FixtureInput) => ({
        ...baseSpec(taskId, await newSandbox(), onLog),
        cmd: 'exit 3',
      }),
      runsForever: async ({ taskId, onLog }: FixtureInput) => ({
        ...baseSpec(taskId, await newSandbox(), onLog),
        // The shell is pid 1, which ignores SIGTERM without a handler: give it one.
        cmd: "trap 'exit 0' TERM; sleep 1000 & wait",
      }),
    },
  });
}

describe.skipIf(!engine)('container driver (podman)', () => {
  let driver: TaskDriver;
  beforeAll(() => {
    driver = create();
  });
  afterAll(async () => {
    await driver.close();
  });

  // Issue 11, rows 1 and 3: the container runs as root over its sandbox; the agent (also root)
  // must neither mount nor write through a link planted there.
  it('refuses a relative volume whose directory in the sandbox is a symlink out of it', async () => {
    const { spec } = await containerSpec('ls /host', {
      container: {
        type: 'DOCKER',
        docker: { image },
        volumes: [{ containerPath: '/host', hostPath: 'data/inner', mode: 'RW' }],
      },
    });
    // As a fetched archive could leave it: data -> /
    await symlink('/', path.join(spec.sandboxDir, 'data'));
    const error = await driver.start(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskStartError);
    expect((error as TaskStartError).reason).toBe('FETCH_FAILED');
    expect((error as Error).message).toMatch(/data is a symlink in the sandbox/);
  });

  it('creates a relative volume inside the sandbox and mounts it there', async () => {
    const { spec, lines } = await containerSpec('echo made > /v/file; echo done', {
      container: {
        type: 'DOCKER',
        docker: { image },
        volumes: [{ containerPath: '/v', hostPath: './a/../vol', mode: 'RW' }],
      },
    });
    await driver.start(spec);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
    expect(lines).toContainEqual({ stream: 'stdout', line: 'done' });
    expect(await readFile(path.join(spec.sandboxDir, 'vol', 'file'), 'utf8')).toBe('made\n');
    await driver.destroy(spec.taskId);
  });

  it('never writes its copy of the output through a stdout symlink planted in the sandbox', async () => {
    const outside = path.join(root, `cron-${randomUUID()}`);
    await writeFile(outside, 'original\n');
    const { spec, lines } = await containerSpec('echo "* * * * * root evil"');
    await symlink(outside, path.join(spec.sandboxDir, 'stdout'));
    await driver.start(spec);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
    expect(lines).toContainEqual({ stream: 'stdout', line: '* * * * * root evil' });
    expect(await readFile(outside, 'utf8')).toBe('original\n');
    expect((await lstat(path.join(spec.sandboxDir, 'stdout'))).isFile()).toBe(true);
    await driver.destroy(spec.taskId);
  });

  it('fails a task whose image is not in the local store with FETCH_FAILED and a clear message', async () => {
    const { spec } = await containerSpec('true', {
      container: {
        type: 'DOCKER',
        docker: { image: 'localhost/pacer-no-such-image:1' },
        volumes: [],
      },
    });
    const start = driver.start(spec);
    await expect(start).rejects.toBeInstanceOf(TaskStartError);
    await expect(start).rejects.toMatchObject({
      reason: 'FETCH_FAILED',
      message: expect.stringMatching(
        /^FETCH_FAILED: image 'localhost\/pacer-no-such-image:1' is not in the local podman image store/,
      ),
    });
    expect(driver.inspect(spec.taskId)).toBeUndefined();
  });

  it('runs the image with env, labels, cpus, mem, the sandbox mounted, and logs to onLog and the sandbox files', async () => {
    const { spec, lines } = await containerSpec(
      'echo "$GREETING $MESOS_SANDBOX"; echo inside > $MESOS_SANDBOX/made-here; echo warn >&2; exit 0',
      { env: { GREETING: 'hello' }, labels: { team: 'edge' } },
    );
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FINISHED', exitCode: 0 });
    expect(lines).toEqual([
      { stream: 'stdout', line: 'hello /mnt/mesos/sandbox' },
      { stream: 'stderr', line: 'warn' },
    ]);
    expect(await readFile(path.join(spec.sandboxDir, 'made-here'), 'utf8')).toBe('inside\n');
    expect(await readFile(path.join(spec.sandboxDir, 'stdout'), 'utf8')).toBe(
      'hello /mnt/mesos/sandbox\n',
    );
    expect(await readFile(path.join(spec.sandboxDir, 'stderr'), 'utf8')).toBe('warn\n');
    const { stdout } = await run('podman', [
      'inspect',
      '--format',
      '{{index .Config.Labels "team"}}',
      spec.taskId,
    ]);
    expect(stdout.trim()).toBe('edge');
    const limits = await run('podman', [
      'inspect',
      '--format',
      '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}',
      spec.taskId,
    ]);
    expect(limits.stdout.trim()).toBe(`500000000 ${64 * 1024 * 1024} ${64 * 1024 * 1024}`);
    await driver.destroy(spec.taskId);
  });

  it('reports exit 3 as NONZERO_EXIT with the code', async () => {
    const { spec } = await containerSpec('exit 3');
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'NONZERO_EXIT', exitCode: 3 });
    expect(exit.message).toBe('NONZERO_EXIT: Container exited with status 3');
    await driver.destroy(spec.taskId);
  });

  it('fails a container that needs more than mem with MEMORY_LIMIT', async () => {
    const { spec } = await containerSpec(
      'head -c 200000000 /dev/zero | tail -c 150000000 >/dev/null',
      {
        limits: { memMiB: 32 },
      },
    );
    await driver.start(spec);
    const exit = await driver.wait(spec.taskId);
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'MEMORY_LIMIT' });
    await driver.destroy(spec.taskId);
  });

  it('kills a container that ignores SIGTERM once the grace period is over', async () => {
    const { spec, lines } = await containerSpec(
      // It says when TERM came, then keeps saying it is alive: the kill must wait for the grace.
      "trap 'echo term; termed=1' TERM; echo ready; " +
        'while :; do sleep 0.1; [ -n "$termed" ] && echo alive-after-term; done',
      {
        limits: { killGracePeriodMs: 2000 },
      },
    );
    await driver.start(spec);
    await waitFor(`the line 'ready'`, () => hasLine(lines, 'ready'));
    await driver.stop(spec.taskId);
    await waitFor('a line after TERM', () => hasLine(lines, 'alive-after-term'));
    expect(await driver.wait(spec.taskId)).toMatchObject({
      state: 'TASK_KILLED',
      reason: 'KILLED',
    });
    const { stdout } = await run('podman', [
      'inspect',
      '--format',
      '{{.State.Status}}',
      spec.taskId,
    ]);
    expect(stdout.trim()).toBe('exited');
    await driver.destroy(spec.taskId);
  });

  it('fails a container that runs past its timeout with TIMEOUT', async () => {
    const { spec } = await containerSpec("trap 'exit 0' TERM; sleep 1000 & wait", {
      limits: { timeoutMs: 500, killGracePeriodMs: 0 },
    });
    await driver.start(spec);
    expect(await driver.wait(spec.taskId)).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'TIMEOUT',
    });
    await driver.destroy(spec.taskId);
  });

  it('publishes a mapped port on the host port the agent assigned, and has no network without ports', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const hostPort = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const { spec, lines } = await containerSpec(
      'echo listening; echo hello-from-container | nc -l -p 8080',
      {
        ports: [hostPort],
        container: {
          type: 'DOCKER',
          docker: { image },
          volumes: [],
          portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
        },
      },
    );
    await driver.start(spec);
    await waitFor(`the line 'listening'`, () => hasLine(lines, 'listening'));
    expect(await answerOn(hostPort)).toBe('hello-from-container\n');
    await driver.stop(spec.taskId);
    await driver.destroy(spec.taskId);

    const isolated = await containerSpec(
      'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "',
    );
    await driver.start(isolated.spec);
    await driver.wait(isolated.spec.taskId);
    expect(isolated.lines.map((l) => l.line)).toEqual(['lo']);
    await driver.destroy(isolated.spec.taskId);
  });

  // Issue 11, rule 7: a task with ports but no mappings was on the host's network, where the
  // agent's loopback services (Redis, Postgres, the agent) answered it.
  it("serves a task's own port without mappings, and the task cannot reach the host's loopback", async () => {
    const loopbackService = net.createServer((socket) => socket.end('secret\n'));
    await new Promise<void>((resolve) => loopbackService.listen(0, '127.0.0.1', resolve));
    const servicePort = (loopbackService.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const hostPort = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    try {
      const { spec, lines } = await containerSpec(
        `nc -w 1 127.0.0.1 ${servicePort} </dev/null; echo tried-loopback; ` +
          `echo hello-from-port0 | nc -l -p ${hostPort}`,
        { ports: [hostPort] },
      );
      await driver.start(spec);
      await waitFor(`the line 'tried-loopback'`, () => hasLine(lines, 'tried-loopback'));
      expect(await answerOn(hostPort)).toBe('hello-from-port0\n');
      expect(hasLine(lines, 'secret')).toBe(false);
      await driver.stop(spec.taskId);
      await driver.destroy(spec.taskId);
    } finally {
      loopbackService.close();
    }
  });

  it('recovers a running container with a new driver instance by its name and reports its exit', async () => {
    const { spec, lines } = await containerSpec(
      'echo before; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.1; done; echo after; exit 4',
    );
    const handle = await driver.start(spec);
    await waitFor(`the line 'before'`, () => hasLine(lines, 'before'));
    const second = create();
    const recovered: Line[] = [];
    expect(await second.recover(handle, (stream, line) => recovered.push({ stream, line }))).toBe(
      true,
    );
    await mkdir(path.join(spec.sandboxDir, 'go'));
    expect(await second.wait(spec.taskId)).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'NONZERO_EXIT',
      exitCode: 4,
    });
    expect(recovered).toEqual([{ stream: 'stdout', line: 'after' }]);
    await second.destroy(spec.taskId);
    await second.close();
    expect(await second.recover(handle)).toBe(false);
  });
});
