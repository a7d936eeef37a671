// Command and container tasks end to end: a master and agent processes on real Postgres and
// Redis, driven only through the Marathon HTTP API. An agent without --allow-commands never gets
// a command app; an HTTP server command passes its health check; a container's logs come back;
// a memory hog fails with MEMORY_LIMIT; a command ignoring SIGTERM dies after its grace period.
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBusyboxImage } from '../bench/command-busybox-image.js';
import {
  followStatusEvents,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  prepareCluster,
  type ClusterSetup,
  agentPortRanges,
} from './support/cluster.js';
import { hasCommand, hasService, REDIS_URL, redisPrefix } from './support/services.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));
const hasPodman = await hasCommand('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}']);
// The HTTP server command is busybox's httpd.
const hasBusybox = await hasCommand('busybox', ['true']);

interface Task {
  id: string;
  host: string;
  state: string;
  ports: number[];
  healthCheckResults?: { alive: boolean }[];
}

/** Pids of live processes whose command line contains `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replaceAll(
      '\0',
      ' ',
    );
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

describe.skipIf(!ok)('command and container tasks', () => {
  let db: { url: string; drop: () => Promise<void> };
  let master: PacerProcess;
  const agents = new Map<string, PacerProcess>();
  let commandAgentDir: string | undefined;
  const workDirs = new Set<string>();
  const commandAgentFlags = [
    '--allow-commands',
    ...(hasPodman ? ['--containerizer', 'podman', '--container-runtime', 'runc'] : []),
  ];
  let env: Record<string, string>;
  let api: ClusterSetup['api'];

  const portsOf = agentPortRanges();

  async function startAgent(hostname: string, flags: string[], workDir?: string): Promise<string> {
    // Tasks run as nobody when the agent is root: the work dir must be searchable by it.
    const dir = workDir ?? (await tempDir(`pacer-${hostname}`));
    workDirs.add(dir);
    await chmod(dir, 0o755);
    agents.set(
      hostname,
      startPacer(
        [
          'agent',
          '--hostname',
          hostname,
          '--resources',
          `cpus:4,mem:2048,disk:1024,ports:[${portsOf(hostname)}]`,
          '--work-dir',
          dir,
          ...flags,
        ],
        env,
      ),
    );
    return dir;
  }

  async function activeAgents(): Promise<string[]> {
    const body = (await api.get('/v2/agents')).body;
    return ((body.agents ?? body) as { hostname: string; state: string }[])
      .filter((a) => a.state === 'active')
      .map((a) => a.hostname);
  }

  async function tasksOf(appId: string): Promise<Task[]> {
    return (await api.get(`/v2/apps${appId}/tasks`)).body.tasks as Task[];
  }

  async function running(appId: string, count = 1): Promise<Task[] | undefined> {
    const tasks = await tasksOf(appId);
    return tasks.length === count && tasks.every((t) => t.state === 'TASK_RUNNING')
      ? tasks
      : undefined;
  }

  function output(): string {
    return [master, ...agents.values()].map((p) => p.output().slice(-12000)).join('\n----\n');
  }

  beforeAll(async () => {
    let port: number;
    ({ db, port, api, env } = await prepareCluster({
      PACER_OFFER_INTERVAL_MS: '250',
      // Long enough that the agent restart below (slow on a loaded machine) is never taken for an
      // agent loss, which would replace the task instead of finding it again.
      PACER_AGENT_TIMEOUT_MS: '10000',
    }));
    master = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env);
    if (hasPodman) await ensureBusyboxImage();
    await waitForApi(api.url, master);
    await startAgent('wasm-only', []);
    await waitFor('the wasm-only agent', async () => (await activeAgents()).length === 1, 30_000);
  }, 60_000);

  afterAll(async () => {
    // Command tasks and containers outlive their agent by design: end them before the agents.
    for (const app of ((await api?.get('/v2/apps'))?.body.apps ?? []) as { id: string }[]) {
      await api.delete(`/v2/apps${app.id}?force=true`);
    }
    await waitFor(
      'no tasks left',
      async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
    ).catch(() => {});
    await Promise.all([...agents.values(), master].filter(Boolean).map((p) => p.stop()));
    await db?.drop();
    for (const dir of workDirs) await rm(dir, { recursive: true, force: true });
  });

  it('queues a command app while only a wasm agent exists, then runs it only on the agent that allows commands', async () => {
    const app = { id: '/cmd/sleeper', instances: 2, cpus: 0.1, mem: 16, cmd: 'exec sleep 1000' };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    const queued = await waitFor('the queue to say why', async () => {
      const item = ((await api.get('/v2/queue')).body.queue as any[]).find(
        (q) => q.app.id === app.id,
      );
      const role = (
        item?.processedOffersSummary.rejectSummaryLastOffers as any[] | undefined
      )?.find((r) => r.reason === 'UnfulfilledRole');
      return role?.declined > 0 ? item : undefined;
    });
    expect(queued.count).toBe(2);
    expect(await tasksOf(app.id)).toEqual([]);

    commandAgentDir = await startAgent('commands', commandAgentFlags);
    const tasks = await waitFor(
      '2 running on the command agent',
      () => running(app.id, 2),
      30_000,
    ).catch((e) => {
      throw new Error(`${String(e)}\n${output()}`);
    });
    expect(tasks.map((t) => t.host)).toEqual(['commands', 'commands']);
    expect(
      ((await api.get('/v2/queue')).body.queue as any[]).filter((q) => q.app.id === app.id),
    ).toEqual([]);
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  }, 40_000);

  it.skipIf(!hasBusybox)(
    'runs an HTTP server command on $PORT0 that its HTTP health check finds alive',
    async () => {
      const app = {
        id: '/cmd/httpd',
        cpus: 0.1,
        mem: 32,
        portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
        // Issue 11, row 10: its own network; the agent's Redis on 127.0.0.1 is out of reach.
        cmd:
          '(busybox nc -w 2 127.0.0.1 6379 </dev/null >/dev/null 2>&1 && echo reached-redis || echo no-redis); ' +
          'echo "$MARATHON_APP_ID $MESOS_TASK_ID $PORTS" > index.html && exec busybox httpd -f -p "$PORT0" -h .',
        healthChecks: [
          {
            protocol: 'HTTP',
            path: '/',
            portIndex: 0,
            gracePeriodSeconds: 10,
            intervalSeconds: 1,
            timeoutSeconds: 2,
            maxConsecutiveFailures: 3,
          },
        ],
      };
      expect((await api.post('/v2/apps', app)).status).toBe(201);
      const [task] = await waitFor(
        'a healthy httpd',
        async () => {
          const tasks = await running(app.id);
          return tasks?.[0]?.healthCheckResults?.[0]?.alive ? tasks : undefined;
        },
        20_000,
      ).catch((e) => {
        throw new Error(`${String(e)}\n${output()}`);
      });
      expect(task!.host).toBe('commands');
      // The server listens on the port the agent gave it, reachable from the host, and the task
      // got Marathon's environment.
      const served = await fetch(`http://127.0.0.1:${task!.ports[0]}/`);
      expect((await served.text()).trim()).toBe(`${app.id} ${task!.id} ${task!.ports[0]}`);
      const info = (await api.get(`/v2/apps${app.id}`)).body.app;
      expect(info).toMatchObject({ tasksRunning: 1, tasksHealthy: 1, tasksUnhealthy: 0 });
      const logs = (await api.get(`/v2/tasks/${task!.id}/logs`)).body as {
        lines: { line: string }[];
      };
      expect(logs.lines.map((l) => l.line)).toContain('no-redis');
    },
    30_000,
  );

  it.skipIf(!hasBusybox)(
    'finds the running command again when its agent is SIGKILLed and restarted',
    async () => {
      const [before] = (await running('/cmd/httpd')) ?? [];
      expect(before).toBeDefined();
      expect(await processesWith(`httpd -f -p ${before!.ports[0]} `)).toHaveLength(1);
      await agents.get('commands')!.stop({ hard: true });
      await startAgent('commands', commandAgentFlags, commandAgentDir);
      await waitFor(
        'the command agent back',
        async () => (await activeAgents()).includes('commands'),
        20_000,
      );
      // Same task, still serving, still healthy: nothing was relaunched.
      const [after] = await waitFor('the task healthy after the restart', async () => {
        const tasks = await running('/cmd/httpd');
        return tasks?.[0]?.healthCheckResults?.[0]?.alive ? tasks : undefined;
      });
      expect(after!.id).toBe(before!.id);
      // The agent came back with its own id and reports the task it found again.
      const body = (await api.get('/v2/agents')).body;
      const agent = (
        (body.agents ?? body) as { hostname: string; state: string; runningTasks: string[] }[]
      ).filter((a) => a.hostname === 'commands' && a.state === 'active');
      expect(agent).toHaveLength(1);
      expect(agent[0]!.runningTasks).toEqual([before!.id]);
      const served = await fetch(`http://127.0.0.1:${after!.ports[0]}/`);
      expect(served.status).toBe(200);
      expect((await api.delete('/v2/apps/cmd/httpd')).status).toBe(200);
      await waitFor(
        'httpd gone',
        async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
      ).catch(async (e) => {
        throw new Error(
          `${String(e)}\n${JSON.stringify((await api.get('/v2/tasks')).body)}\n${output()}`,
        );
      });
      await waitFor(
        'its processes gone',
        async () => (await processesWith(`httpd -f -p ${after!.ports[0]} `)).length === 0,
        10_000,
      ).catch((e) => {
        throw new Error(`${String(e)}\n${agents.get('commands')!.output()}`);
      });
    },
    30_000,
  );

  it.skipIf(!hasPodman)(
    'runs a container app on the podman agent and serves its logs',
    async () => {
      const app = {
        id: '/cmd/container',
        cpus: 0.1,
        mem: 32,
        container: { type: 'DOCKER', docker: { image: 'localhost/pacer-busybox' } },
        cmd: 'echo hello-from-container; exec sleep 1000',
      };
      expect((await api.post('/v2/apps', app)).status).toBe(201);
      const [task] = await waitFor('the container running', () => running(app.id), 30_000).catch(
        (e) => {
          throw new Error(`${String(e)}\n${output()}`);
        },
      );
      expect(task!.host).toBe('commands');
      const lines = await waitFor('its log line', async () => {
        const body = (await api.get(`/v2/tasks/${task!.id}/logs`)).body as {
          lines: { stream: string; line: string }[];
        };
        return body.lines.some((l) => l.line === 'hello-from-container') ? body.lines : undefined;
      });
      expect(lines).toContainEqual(
        expect.objectContaining({ stream: 'stdout', line: 'hello-from-container' }),
      );
      expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
    },
    40_000,
  );

  // Issue 11, row 4: the path the agent follows is the task's to change.
  it("never serves the agent's own environment when a command swaps its stdout for /proc/self/environ", async () => {
    const app = {
      id: '/cmd/environ',
      cpus: 0.1,
      mem: 16,
      cmd: 'echo before; rm stdout; ln -s /proc/self/environ stdout; echo after; exec sleep 1000',
    };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    const [task] = await waitFor('the task running', () => running(app.id), 20_000);
    const lines = await waitFor('its line after the swap', async () => {
      const body = (await api.get(`/v2/tasks/${task!.id}/logs`)).body as {
        lines: { line: string }[];
      };
      const texts = body.lines.map((l) => l.line);
      return texts.includes('after') ? texts : undefined;
    });
    expect(lines).toEqual(['before', 'after']);
    expect(JSON.stringify(lines)).not.toMatch(/REDIS_URL|DATABASE_URL/);
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  });

  // Issue 11, row 1: an absolute host volume is valid Marathon, but no agent here allows it.
  it.skipIf(!hasPodman)(
    'keeps a container with a host volume no agent allows waiting, with the reason in /v2/queue',
    async () => {
      const app = {
        id: '/cmd/hostvolume',
        cpus: 0.1,
        mem: 16,
        cmd: 'ls /host',
        container: {
          type: 'DOCKER',
          docker: { image: 'localhost/pacer-busybox' },
          volumes: [{ containerPath: '/host', hostPath: '/', mode: 'RW' }],
        },
      };
      expect((await api.post('/v2/apps', app)).status).toBe(201);
      await waitFor('the queue to name host access', async () => {
        const item = ((await api.get('/v2/queue')).body.queue as any[]).find(
          (q) => q.app.id === app.id,
        );
        return (item?.processedOffersSummary.rejectSummaryLastOffers as any[] | undefined)?.find(
          (r) => r.reason === 'UnfulfilledHostAccess' && r.declined > 0,
        );
      });
      expect(await tasksOf(app.id)).toEqual([]);
      expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
    },
  );

  it('fails a command that exceeds its mem with MEMORY_LIMIT', async () => {
    const app = {
      id: '/cmd/hog',
      cpus: 0.1,
      mem: 32,
      cmd: 'head -c 200000000 /dev/zero | tail -c 150000000 >/dev/null',
    };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    const failure = await waitFor(
      'a task failure',
      async () => {
        const body = (await api.get(`/v2/apps${app.id}?embed=app.lastTaskFailure`)).body;
        return body.app.lastTaskFailure as
          { state: string; message: string; host: string } | undefined;
      },
      20_000,
    ).catch((e) => {
      throw new Error(`${String(e)}\n${output()}`);
    });
    expect(failure.state).toBe('TASK_FAILED');
    expect(failure.message).toMatch(/^MEMORY_LIMIT/);
    expect(failure.host).toBe('commands');
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  }, 30_000);

  it('SIGKILLs a command that ignores SIGTERM once taskKillGracePeriodSeconds is over', async () => {
    const marker = `stubborn-${process.pid}-${Date.now()}`;
    const app = {
      id: '/cmd/stubborn',
      cpus: 0.1,
      mem: 16,
      taskKillGracePeriodSeconds: 3,
      // On TERM it carries on under another name (and ignores TERM from then on): seeing that
      // name shows it outlived the TERM, so only the SIGKILL after the grace can end it.
      // (`ter""med`: the name must not appear in the command line before the trap runs.)
      cmd:
        `trap 'exec sh -c "trap \\"\\" TERM; while true; do sleep 1; done # ${marker}-ter""med"' TERM; ` +
        `echo ready; while true; do sleep 1; done # ${marker}`,
    };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    const [task] = await waitFor('the stubborn task running', () => running(app.id));
    await waitFor('its first line', async () =>
      ((await api.get(`/v2/tasks/${task!.id}/logs`)).body.lines as { line: string }[]).some(
        (l) => l.line === 'ready',
      ),
    );
    expect(await processesWith(marker)).not.toEqual([]);
    const watch = await followStatusEvents(api.url);
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
    await waitFor('the task alive after TERM', async () =>
      (await processesWith(`${marker}-termed`)).length > 0 ? true : undefined,
    );
    const killed = await waitFor('TASK_KILLED', async () =>
      watch.events.find((e) => e.taskId === task!.id && e.taskStatus === 'TASK_KILLED'),
    );
    watch.stop();
    expect(killed.message).toMatch(/^KILLED/);
    await waitFor(
      'no tasks left',
      async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
    );
    expect(await processesWith(marker)).toEqual([]);
  }, 30_000);
});

// Issue 11, row 14: without a working bubblewrap, --allow-commands is a refusal to start, not
// a silent downgrade.
describe.skipIf(!ok)(
  'an agent that allows commands on a host where bubblewrap does not work',
  () => {
    let fakeBin: string;
    let env: Record<string, string>;
    beforeAll(async () => {
      // A `bwrap` first on PATH that fails, as one does where user namespaces are off.
      fakeBin = await tempDir('pacer-fake-bwrap');
      await writeFile(
        path.join(fakeBin, 'bwrap'),
        '#!/bin/sh\necho "no user namespaces" >&2\nexit 1\n',
      );
      await chmod(fakeBin, 0o755);
      await chmod(path.join(fakeBin, 'bwrap'), 0o755);
      env = {
        PATH: `${fakeBin}:${process.env.PATH ?? ''}`,
        REDIS_URL,
        PACER_MASTER_URL: 'http://127.0.0.1:9',
        PACER_BUS_PREFIX: redisPrefix(),
      };
    });
    afterAll(async () => {
      await rm(fakeBin, { recursive: true, force: true });
    });

    it('refuses to start, saying why and what to do', async () => {
      const workDir = await tempDir('pacer-nobwrap');
      const agent = startPacer(['agent', '--allow-commands', '--work-dir', workDir], env);
      const code = await new Promise<number | null>((resolve) => agent.child.once('exit', resolve));
      expect(code).toBe(2);
      expect(agent.output()).toMatch(/cannot build a sandbox.*--allow-unsandboxed-commands/s);
      await rm(workDir, { recursive: true, force: true });
    });

    it('starts with --allow-unsandboxed-commands, and says so loudly', async () => {
      const workDir = await tempDir('pacer-nobwrap');
      const agent = startPacer(
        ['agent', '--allow-commands', '--allow-unsandboxed-commands', '--work-dir', workDir],
        env,
      );
      await waitFor('the warning', async () =>
        agent.output().includes('COMMAND TASKS RUN UNSANDBOXED') ? true : undefined,
      );
      expect(agent.child.exitCode).toBeNull();
      await agent.stop();
      await rm(workDir, { recursive: true, force: true });
    });
  },
);
