// Steady HTTP load through the balancer for the rolling-restart test and bench: `workers`
// requests always in flight until stopped, each answer counted as ok (200) or failed, with
// which tasks answered.
import { Agent, request } from 'undici';
import type { Balancer } from '../../src/lb/index.js';
import { waitFor } from './cluster.js';
import type { LbDev } from './lb-dev.js';

export interface LoadResult {
  ok: number;
  failed: number;
  /** Failure reasons (status or error code) and their counts. */
  reasons: Map<string, number>;
  /** Task ids that answered. */
  tasks: Set<string>;
}

export function startLoad(options: {
  url: string;
  host: string;
  workers: number;
  path?: (n: number) => string;
}) {
  const dispatcher = new Agent({ connections: options.workers, keepAliveTimeout: 4_000 });
  const result: LoadResult = { ok: 0, failed: 0, reasons: new Map(), tasks: new Set() };
  let isStopped = false;
  let n = 0;
  const fail = (reason: string) => {
    result.failed += 1;
    result.reasons.set(reason, (result.reasons.get(reason) ?? 0) + 1);
  };
  const worker = async () => {
    while (!isStopped) {
      try {
        const response = await request(`${options.url}${options.path?.(n++) ?? '/'}`, {
          headers: { host: options.host },
          dispatcher,
        });
        const text = await response.body.text();
        if (response.statusCode !== 200) {
          fail(String(response.statusCode));
          continue;
        }
        result.ok += 1;
        const task = (JSON.parse(text) as { task?: string }).task;
        if (task) result.tasks.add(task);
      } catch (error) {
        fail((error as { code?: string }).code ?? String(error));
      }
    }
  };
  const running = Promise.all(Array.from({ length: options.workers }, worker));
  return {
    result,
    async stop(): Promise<LoadResult> {
      isStopped = true;
      await running;
      await dispatcher.close();
      return result;
    },
  };
}

/**
 * Restarts `appId` on `dev` while `load` runs through `lb`, and waits until the deployment is
 * done, the balancer routes `host` to `instances` backends that are all new (none in `before`)
 * and the new tasks took load; then stops the load and answers what it saw.
 */
export async function restartUnderLoad(options: {
  dev: LbDev;
  lb: Balancer;
  load: ReturnType<typeof startLoad>;
  appId: string;
  host: string;
  instances: number;
  before: ReadonlySet<string>;
  timeoutMs: number;
}): Promise<LoadResult> {
  const { dev, lb, load, before } = options;
  await waitFor('load flowing', () => load.result.ok > 50);
  const restart = await dev.call('POST', `/v2/apps${options.appId}/restart`, {});
  if (restart.status !== 200) throw new Error(`the restart answered ${restart.status}`);
  await waitFor(
    `the restart done and ${options.instances} new backends in rotation`,
    async () => {
      if (((await dev.call('GET', '/v2/deployments')).body as unknown[]).length > 0) return false;
      const backends = lb.table().matchVhost(options.host, '/')?.backends ?? [];
      return backends.length === options.instances && backends.every((b) => !before.has(b.taskId));
    },
    options.timeoutMs,
  );
  const settledAt = load.result.ok;
  await waitFor('load on the new tasks', () => load.result.ok > settledAt + 50);
  return load.stop();
}
