// `pacer task kill`, `pacer deployment list|cancel`, `pacer agent list|drain|undrain`,
// `pacer artifact push`.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../config.js';
import type { PacerClient } from './client.js';
import { expectData } from './client.js';
import { print, table, text } from './format.js';
import type { OperatorSettings } from './settings.js';

interface Context {
  client: PacerClient;
  settings: OperatorSettings;
  flags: { force?: boolean };
}

type Json = Record<string, unknown>;

export async function taskCommand(ctx: Context, [action, id]: string[]): Promise<number> {
  if (action !== 'kill' || !id) throw new ConfigError('Usage: pacer task kill TASK_ID');
  const answer = await ctx.client.POST('/v2/tasks/delete', {
    params: { query: { force: String(ctx.flags.force === true) } as never },
    body: { ids: [id] } as never,
  });
  const body = expectData(answer) as Json;
  print(ctx.settings, body, () => `killing ${id}`);
  return 0;
}

export async function deploymentCommand(ctx: Context, [action, id]: string[]): Promise<number> {
  if (action === 'list') {
    const deployments = expectData(await ctx.client.GET('/v2/deployments')) as Json[];
    print(ctx.settings, deployments, (all) =>
      table(
        ['ID', 'APPS', 'STEP', 'ACTIONS', 'VERSION'],
        all.map((d) => [
          d.id as string,
          ((d.affectedApps ?? []) as string[]).join(','),
          `${String(d.currentStep)}/${String(d.totalSteps)}`,
          ((d.currentActions ?? []) as { action: string; app?: string }[])
            .map((a) => `${a.action} ${a.app ?? ''}`.trim())
            .join(', '),
          d.version as string,
        ]),
      ),
    );
    return 0;
  }
  if (action === 'cancel' && id) {
    const answer = await ctx.client.DELETE('/v2/deployments/{deploymentId}', {
      params: {
        path: { deploymentId: id },
        query: { force: String(ctx.flags.force === true) } as never,
      },
    });
    if (!answer.response.ok) expectData(answer);
    // Without --force Marathon rolls back with a new deployment; with it, it just stops.
    const body = answer.response.status === 202 ? {} : ((answer.data ?? {}) as Json);
    print(ctx.settings, body, () =>
      ctx.flags.force
        ? `cancelled ${id}`
        : `cancelling ${id}, rolling back (deployment ${text(body.deploymentId)})`,
    );
    return 0;
  }
  throw new ConfigError('Usage: pacer deployment list | cancel ID [--force]');
}

/** `*:1.8cpu,992M,2048D web:1cpu,256M,0D`: what each role has free on the agent. */
function freeByRole(agent: Json): string {
  const roles = (agent.resourcesByRole ?? []) as { role: string; free: Json }[];
  if (roles.length === 0) return '-';
  return roles
    .map(({ role, free }) => `${role}:${text(free.cpus)}cpu,${text(free.mem)}M,${text(free.disk)}D`)
    .join(' ');
}

export async function agentCommand(ctx: Context, [action, id]: string[]): Promise<number> {
  if ((action === 'drain' || action === 'undrain') && id) {
    const path = action === 'drain' ? '/v2/agents/{agentId}/drain' : '/v2/agents/{agentId}/undrain';
    const body = expectData(
      await ctx.client.POST(path, { params: { path: { agentId: id } } }),
    ) as Json;
    const drain = body.drain as Json | null;
    print(ctx.settings, body, () =>
      drain ? `${id} ${text(drain.state)} since ${text(drain.since)}` : `${id} in service`,
    );
    return 0;
  }
  if (action !== 'list') throw new ConfigError('Usage: pacer agent list | drain ID | undrain ID');
  const { agents } = expectData(await ctx.client.GET('/v2/agents')) as { agents: Json[] };
  print(ctx.settings, agents, (all) =>
    table(
      [
        'ID',
        'HOSTNAME',
        'STATE',
        'CPUS FREE',
        'MEM FREE',
        'FREE BY ROLE',
        'TASKS',
        'LAST HEARTBEAT',
      ],
      all.map((a) => {
        const free = (a.free ?? {}) as Json;
        const drain = a.drain as Json | undefined;
        return [
          a.id as string,
          a.hostname as string,
          drain ? `${a.state as string},${text(drain.state)}` : (a.state as string),
          free.cpus as number,
          free.mem as number,
          freeByRole(a),
          ((a.runningTasks ?? []) as unknown[]).length,
          a.lastHeartbeatAt as string,
        ];
      }),
    ),
  );
  return 0;
}

export async function artifactCommand(ctx: Context, [action, file]: string[]): Promise<number> {
  if (action !== 'push' || !file) throw new ConfigError('Usage: pacer artifact push FILE');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
  const answer = await ctx.client.POST('/v2/artifacts', {
    body: bytes as never,
    bodySerializer: (body: unknown) => body as never,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const stored = expectData(answer) as { uri: string };
  print(ctx.settings, stored, (s) => s.uri);
  return 0;
}
