// Marathon's readiness checks: during a deployment, the master asks each new task of an app in
// the running step over HTTP whether it is ready; the step (and a rolling restart's kills of
// old tasks) waits until it is. Results are kept on the instance, written through the applier.
//
//   tick ─► deployments' current steps ─► Running, up-to-date instances not yet ready,
//           checked longer than intervalSeconds ago ─► GET http(s)://host:port/path
//           ─► ready = status ∈ httpStatusCodesForReady ─► one intent ─► kick the apps now ready
import type { AppDefinition, Instance, ReadinessCheckResult } from '../../domain/index.js';
import { currentTaskId } from '../../domain/index.js';
import type { Clock, Logger } from '../../lib/index.js';
import { isUpToDate } from '../../scheduler/index.js';
import type { Applier } from '../applier/index.js';

export interface ReadinessChecker {
  /** Checks what is due now; resolves once the results are stored. Called every second. */
  tick(): Promise<void>;
}

/** A readiness check as the API stores it (normalized with Marathon's defaults). */
interface ReadinessCheck {
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  path: string;
  portName: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  httpStatusCodesForReady: number[];
  preserveLastResponse: boolean;
}

/** A response body kept with `preserveLastResponse` is cut here: results live in memory. */
const MAX_BODY_CHARS = 4_096;

/** The app's readiness check (Marathon allows one), or undefined when it has none or it is malformed. */
export function readinessCheckOf(app: AppDefinition): ReadinessCheck | undefined {
  const check = app.readinessChecks[0] as Partial<ReadinessCheck> | undefined;
  if (
    !check ||
    (check.protocol !== 'HTTP' && check.protocol !== 'HTTPS') ||
    typeof check.path !== 'string' ||
    typeof check.portName !== 'string' ||
    !Array.isArray(check.httpStatusCodesForReady)
  )
    return undefined;
  return check as ReadinessCheck;
}

export function createReadinessChecker(options: {
  applier: Applier;
  clock: Clock;
  logger: Logger;
  /** Apps whose instances became ready: the evaluation loop runs for them. */
  onChange: (appIds: string[]) => void;
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
}): ReadinessChecker {
  const { applier, clock, logger, onChange } = options;
  const fetchFn = options.fetch ?? fetch;
  /** Task id → when it was last checked (epoch ms); a task's first check is at once. */
  const checkedAt = new Map<string, number>();

  async function probe(
    instance: Instance,
    app: AppDefinition,
    check: ReadinessCheck,
  ): Promise<ReadinessCheckResult> {
    const taskId = currentTaskId(instance);
    const index = (app.portDefinitions ?? []).findIndex((p) => p.name === check.portName);
    const port = instance.ports[index];
    const result: ReadinessCheckResult = { name: check.name, taskId, ready: false };
    if (index < 0 || port === undefined || !instance.host) return result;
    const url = `${check.protocol.toLowerCase()}://${instance.host}:${port}${check.path}`;
    try {
      const response = await fetchFn(url, {
        // The task answers for itself: a redirect elsewhere is not its readiness.
        redirect: 'manual',
        signal: AbortSignal.timeout(check.timeoutSeconds * 1000),
      });
      const body = check.preserveLastResponse
        ? (await response.text()).slice(0, MAX_BODY_CHARS)
        : '';
      if (!check.preserveLastResponse) await response.body?.cancel();
      return {
        ...result,
        ready: check.httpStatusCodesForReady.includes(response.status),
        ...(check.preserveLastResponse
          ? {
              lastResponse: {
                status: response.status,
                contentType: response.headers.get('content-type') ?? '',
                body,
              },
            }
          : {}),
      };
    } catch (error) {
      logger.debug({ err: error, taskId, url }, 'readiness check failed');
      return result;
    }
  }

  /** Instances of apps in deployments' running steps whose check is due now. */
  function due(now: number): { instance: Instance; app: AppDefinition; check: ReadinessCheck }[] {
    const found = new Map<
      string,
      { instance: Instance; app: AppDefinition; check: ReadinessCheck }
    >();
    for (const deployment of applier.apps.deployments()) {
      const step = deployment.steps[Math.max(deployment.currentStep, 1) - 1];
      for (const action of step?.actions ?? []) {
        if (action.action !== 'ScaleApplication' && action.action !== 'RestartApplication')
          continue;
        const app = applier.apps.get(action.app);
        const check = app && readinessCheckOf(app);
        if (!app || !check) continue;
        for (const instance of applier.instances.byApp(app.id)) {
          if (instance.condition !== 'Running' || !isUpToDate(instance, app)) continue;
          if (instance.readinessCheckResults?.every((r) => r.ready) === true) continue;
          const last = checkedAt.get(currentTaskId(instance));
          if (last !== undefined && now - last < check.intervalSeconds * 1000) continue;
          found.set(instance.instanceId, { instance, app, check });
        }
      }
    }
    return [...found.values()];
  }

  return {
    async tick() {
      const now = clock.now();
      const work = due(now);
      if (work.length === 0) return;
      for (const { instance } of work) checkedAt.set(currentTaskId(instance), now);
      const results = await Promise.all(
        work.map(async (w) => ({ ...w, result: await probe(w.instance, w.app, w.check) })),
      );
      const ready = new Set<string>();
      // Recomputed over the instances as they are by then: a task that ended meanwhile keeps
      // no result (it would describe a task that is gone).
      await applier.update(() => {
        const update = results.flatMap(({ instance, result }) => {
          const current = applier.instances.get(instance.instanceId);
          const revision = applier.instances.revisionOf(instance.instanceId);
          if (!current || revision === undefined || currentTaskId(current) !== result.taskId)
            return [];
          if (current.condition !== 'Running') return [];
          if (result.ready) ready.add(current.appId);
          return [{ instance: { ...current, readinessCheckResults: [result] }, revision }];
        });
        return update.length > 0 ? { source: 'readiness', update } : undefined;
      });
      // Forget tasks that ended: the map holds only what may be checked again.
      for (const taskId of checkedAt.keys()) {
        const instance = applier.instances.byTaskId(taskId);
        if (!instance || instance.condition !== 'Running') checkedAt.delete(taskId);
      }
      if (ready.size > 0) onChange([...ready]);
    },
  };
}
