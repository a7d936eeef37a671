// `pacer app deploy` waiting for its deployment: the end comes from the event stream (opened
// before the change, so it cannot be missed); the live line (step, instances running and
// healthy, elapsed time) from polling the deployment and the app. On a terminal the line is
// redrawn in place; elsewhere a line is printed whenever it changes.
import type { PacerClient } from './client.js';
import type { StreamEvent } from './event-stream.js';
import { seconds } from './format.js';

export type DeploymentEnd = 'success' | 'failed' | 'timeout';

interface Progress {
  step?: string;
  running?: number;
  healthy?: number;
  instances?: number;
  failure?: string;
}

async function progressOf(client: PacerClient, options: { deploymentId: string; appId: string }) {
  const [deployments, app] = await Promise.all([
    client.GET('/v2/deployments'),
    client.GET('/v2/apps/{id}', {
      params: {
        path: { id: options.appId.replace(/^\//, '') },
        query: { embed: ['app.lastTaskFailure'] },
      },
    }),
  ]);
  const progress: Progress = {};
  const deployment = ((deployments.data ?? []) as Record<string, unknown>[]).find(
    (d) => d.id === options.deploymentId,
  );
  if (deployment) {
    const actions = ((deployment.currentActions ?? []) as { action?: string }[])
      .map((a) => a.action)
      .join(', ');
    progress.step =
      `step ${String(deployment.currentStep)}/${String(deployment.totalSteps)} ${actions}`.trim();
  }
  const info = (app.data as { app?: Record<string, unknown> } | undefined)?.app;
  if (info) {
    progress.running = info.tasksRunning as number;
    progress.healthy = info.tasksHealthy as number;
    progress.instances = info.instances as number;
    const failure = info.lastTaskFailure as { state?: string; message?: string } | undefined;
    if (failure) progress.failure = `${failure.state ?? ''} ${failure.message ?? ''}`.trim();
  }
  return progress;
}

function describe(progress: Progress): string {
  const parts = [
    progress.step ?? 'waiting',
    `running ${progress.running ?? 0}/${progress.instances ?? '?'}`,
    `healthy ${progress.healthy ?? 0}`,
  ];
  if (progress.failure) parts.push(`last failure: ${progress.failure}`);
  return parts.join('  ');
}

/** Waits for deployment `deploymentId` to end, showing its progress on stderr. */
export async function watchDeployment(options: {
  client: PacerClient;
  events: AsyncIterable<StreamEvent>;
  deploymentId: string;
  appId: string;
  timeoutMs: number;
  quiet: boolean;
}): Promise<DeploymentEnd> {
  const { client, deploymentId, appId } = options;
  const started = performance.now();
  const isTty = process.stderr.isTTY === true;
  let shown = '';
  const show = async () => {
    const line = describe(await progressOf(client, { deploymentId, appId }));
    if (options.quiet) return;
    if (isTty) process.stderr.write(`\r\x1b[2K${line}  ${seconds(performance.now() - started)}`);
    else if (line !== shown)
      process.stderr.write(`${line}  ${seconds(performance.now() - started)}\n`);
    shown = line;
  };
  const ended = (async (): Promise<DeploymentEnd> => {
    for await (const event of options.events) {
      if (event.id !== deploymentId) continue;
      if (event.eventType === 'deployment_success') return 'success';
      if (event.eventType === 'deployment_failed') return 'failed';
    }
    return 'failed'; // the stream ended (the master went away) before the deployment did
  })();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<DeploymentEnd>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  const ticker = setInterval(() => void show().catch(() => undefined), 250);
  try {
    const end = await Promise.race([ended, timedOut]);
    await show().catch(() => undefined);
    if (isTty && !options.quiet) process.stderr.write('\n');
    return end;
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
}
