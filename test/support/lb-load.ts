// Steady HTTP load through the balancer for the rolling-restart test and bench: `workers`
// requests always in flight until stopped, each answer counted as ok (200) or failed, with
// which tasks answered.
import { Agent, request } from 'undici';

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
