// `pacer app …`: deploy, list, show, scale, restart, rollback, delete, tasks, logs.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../config.js';
import type { PacerClient } from './client.js';
import { expectData } from './client.js';
import { openEvents } from './event-stream.js';
import { print, table, text } from './format.js';
import { followLogs, printLogs } from './logs.js';
import type { OperatorSettings } from './settings.js';
import { watchDeployment } from './watch-deployment.js';

export interface OperatorFlags {
  force?: boolean;
  'no-wait'?: boolean;
  follow?: boolean;
  stderr?: boolean;
  timeout?: string;
}

interface Context {
  client: PacerClient;
  settings: OperatorSettings;
  flags: OperatorFlags;
}

type AppJson = Record<string, unknown>;

/** An app id as the path parameter wants it (no leading slash: the route adds it). */
const pathId = (id: string) => id.replace(/^\/+/, '');
const need = (value: string | undefined, usage: string): string => {
  if (!value) throw new ConfigError(`Usage: pacer ${usage}`);
  return value;
};

/**
 * Runs a change that answers `{deploymentId}` and, unless --no-wait, waits for its deployment
 * with a live display; the exit status says how it ended.
 */
async function deploying(
  ctx: Context,
  appId: string,
  change: () => Promise<{ deploymentId?: string; version?: string }>,
): Promise<number> {
  const wait = ctx.flags['no-wait'] !== true;
  const abort = new AbortController();
  // Opened before the change: its end cannot be missed.
  const events = wait
    ? await openEvents(ctx.settings, {
        types: ['deployment_success', 'deployment_failed'],
        signal: abort.signal,
      })
    : undefined;
  try {
    const { deploymentId, version } = await change();
    if (!events || !deploymentId) {
      print(ctx.settings, { deploymentId, version }, () => `deployment ${deploymentId ?? '-'}`);
      return 0;
    }
    const timeoutSeconds = Number(ctx.flags.timeout ?? 600);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
      throw new ConfigError('--timeout must be a number of seconds > 0');
    const end = await watchDeployment({
      client: ctx.client,
      events,
      deploymentId,
      appId,
      timeoutMs: timeoutSeconds * 1000,
      quiet: ctx.settings.json,
    });
    const messages = {
      success: `deployment ${deploymentId} succeeded`,
      failed: `deployment ${deploymentId} failed`,
      timeout: `deployment ${deploymentId} still running after ${timeoutSeconds} s (it goes on; see pacer deployment list)`,
    };
    print(ctx.settings, { deploymentId, version, result: end }, () => messages[end]);
    return end === 'success' ? 0 : 1;
  } finally {
    abort.abort();
  }
}

async function deploy(ctx: Context, file: string): Promise<number> {
  let app: AppJson;
  try {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    app = JSON.parse(text) as AppJson;
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
  if (typeof app !== 'object' || app === null || Array.isArray(app) || typeof app.id !== 'string')
    throw new ConfigError(`${file} must hold one app: a JSON object with an "id"`);
  const id = app.id;
  return deploying(ctx, id, async () =>
    expectData(
      await ctx.client.PUT('/v2/apps/{id}', {
        params: {
          path: { id: pathId(id) },
          // The file is the whole app: fields it leaves out go back to their defaults.
          query: { partialUpdate: 'false', force: String(ctx.flags.force === true) },
        },
        body: app as never,
      }),
    ),
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function list(ctx: Context): Promise<number> {
  const { apps } = expectData(await ctx.client.GET('/v2/apps', {})) as { apps: AppJson[] };
  print(ctx.settings, apps, (all) =>
    table(
      ['ID', 'RUNNING', 'STAGED', 'HEALTHY', 'UNHEALTHY', 'CPUS', 'MEM', 'DEPLOYING'],
      all.map((a) => [
        a.id as string,
        `${text(a.tasksRunning ?? 0)}/${text(a.instances)}`,
        a.tasksStaged as number,
        a.tasksHealthy as number,
        a.tasksUnhealthy as number,
        a.cpus as number,
        a.mem as number,
        ((a.deployments as unknown[] | undefined)?.length ?? 0) > 0 ? 'yes' : 'no',
      ]),
    ),
  );
  return 0;
}

async function tasksOf(ctx: Context, id: string): Promise<AppJson[]> {
  // `fuel=true`: Pacer's own `fuelUsed` on metered Wasm tasks.
  const answer = await ctx.client.GET('/v2/apps/{id}/tasks', {
    params: { path: { id: pathId(id) }, query: { fuel: 'true' } },
  });
  return (expectData(answer) as { tasks: AppJson[] }).tasks;
}

function taskTable(tasks: AppJson[]): string {
  return table(
    ['TASK', 'HOST', 'PORTS', 'STATE', 'HEALTH', 'FUEL USED', 'STARTED'],
    tasks.map((t) => {
      const results = (t.healthCheckResults ?? []) as { alive?: boolean }[];
      const health =
        results.length === 0 ? '-' : results.every((r) => r.alive) ? 'healthy' : 'unhealthy';
      return [
        t.id as string,
        t.host as string,
        ((t.ports ?? []) as number[]).join(',') || '-',
        t.state as string,
        health,
        (t.fuelUsed as number | undefined) ?? '-',
        t.startedAt as string | undefined,
      ];
    }),
  );
}

async function show(ctx: Context, id: string): Promise<number> {
  const answer = await ctx.client.GET('/v2/apps/{id}', {
    params: { path: { id: pathId(id) }, query: { embed: ['app.tasks', 'app.lastTaskFailure'] } },
  });
  const { app } = expectData(answer) as { app: AppJson };
  print(ctx.settings, app, (a) => {
    const tasks = (a.tasks ?? []) as AppJson[];
    const failure = a.lastTaskFailure as AppJson | undefined;
    return [
      `id         ${String(a.id)}`,
      `version    ${String(a.version)}`,
      `cmd        ${text(a.cmd)}`,
      `instances  ${text(a.tasksRunning ?? 0)} running of ${text(a.instances)}, ${text(a.tasksHealthy ?? 0)} healthy`,
      `resources  cpus ${String(a.cpus)}, mem ${String(a.mem)} MiB, disk ${String(a.disk)} MiB`,
      `labels     ${JSON.stringify(a.labels ?? {})}`,
      `deploying  ${((a.deployments ?? []) as { id: string }[]).map((d) => d.id).join(', ') || 'no'}`,
      ...(failure ? [`last fail  ${text(failure.state)} ${text(failure.message ?? '')}`] : []),
      '',
      taskTable(tasks),
    ].join('\n');
  });
  return 0;
}

async function scale(ctx: Context, id: string, count: string): Promise<number> {
  const instances = Number(count);
  if (!Number.isInteger(instances) || instances < 0)
    throw new ConfigError(`The instance count must be a whole number >= 0, got '${count}'`);
  return deploying(ctx, id, async () =>
    expectData(
      await ctx.client.PUT('/v2/apps/{id}', {
        params: { path: { id: pathId(id) }, query: { force: String(ctx.flags.force === true) } },
        body: { instances } as never,
      }),
    ),
  );
}

async function restart(ctx: Context, id: string): Promise<number> {
  return deploying(ctx, id, async () =>
    expectData(
      await ctx.client.POST('/v2/apps/{id}/restart', {
        params: { path: { id: pathId(id) }, query: { force: String(ctx.flags.force === true) } },
      }),
    ),
  );
}

async function rollback(ctx: Context, id: string, wanted: string | undefined): Promise<number> {
  let version = wanted;
  if (!version) {
    const { versions } = expectData<{ versions: string[] }>(
      await ctx.client.GET('/v2/apps/{id}/versions', { params: { path: { id: pathId(id) } } }),
    );
    version = versions[1];
    if (!version) throw new ConfigError(`${id} has no earlier version to roll back to`);
  }
  const to = version;
  return deploying(ctx, id, async () =>
    expectData(
      await ctx.client.PUT('/v2/apps/{id}', {
        params: { path: { id: pathId(id) }, query: { force: String(ctx.flags.force === true) } },
        body: { version: to } as never,
      }),
    ),
  );
}

async function remove(ctx: Context, id: string): Promise<number> {
  const answer = expectData(
    await ctx.client.DELETE('/v2/apps/{id}', {
      params: { path: { id: pathId(id) }, query: { force: String(ctx.flags.force === true) } },
    }),
  ) as { deploymentId?: string };
  print(ctx.settings, answer, (a) => `deleting ${id} (deployment ${a.deploymentId ?? '-'})`);
  return 0;
}

async function logs(ctx: Context, id: string): Promise<number> {
  const tasks = await tasksOf(ctx, id);
  if (tasks.length === 0) throw new ConfigError(`${id} has no tasks`);
  const stream = ctx.flags.stderr ? 'stderr' : 'stdout';
  const ids = tasks.map((t) => t.id as string);
  if (ctx.flags.follow) {
    await Promise.all(
      ids.map((taskId) => followLogs(ctx.settings, { taskId, stream, prefix: ids.length > 1 })),
    );
  } else {
    for (const taskId of ids)
      await printLogs(ctx.client, ctx.settings, { taskId, stream, prefix: ids.length > 1 });
  }
  return 0;
}

/** `pacer app <action> …`; answers the exit status. */
export async function appCommand(ctx: Context, args: string[]): Promise<number> {
  const [action = '', first, second] = args;
  switch (action) {
    case 'deploy':
      return deploy(ctx, need(first, 'app deploy FILE.json [--no-wait] [--force]'));
    case 'list':
      return list(ctx);
    case 'show':
      return show(ctx, need(first, 'app show ID'));
    case 'scale':
      return scale(ctx, need(first, 'app scale ID N'), need(second, 'app scale ID N'));
    case 'restart':
      return restart(ctx, need(first, 'app restart ID'));
    case 'rollback':
      return rollback(ctx, need(first, 'app rollback ID [VERSION]'), second);
    case 'delete':
      return remove(ctx, need(first, 'app delete ID'));
    case 'tasks': {
      const tasks = await tasksOf(ctx, need(first, 'app tasks ID'));
      print(ctx.settings, tasks, taskTable);
      return 0;
    }
    case 'logs':
      return logs(ctx, need(first, 'app logs ID [-f] [--stderr]'));
    default:
      throw new ConfigError(
        'Usage: pacer app deploy|list|show|scale|restart|rollback|delete|tasks|logs …',
      );
  }
}
