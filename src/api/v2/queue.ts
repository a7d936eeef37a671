// /v2/queue: instances waiting for placement, their backoff delay and why agents refused them
// (QueueResource.scala); `DELETE …/delay` resets the backoff.
import { Hono } from 'hono';
import {
  Action,
  NotFoundError,
  canonicalPath,
  isValidPathId,
  toTimestamp,
} from '../../domain/index.js';
import { canView } from '../auth/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { Instance } from '../../domain/index.js';
import { systemClock } from '../../lib/index.js';
import type { RouteDeps } from '../deps.js';
import { toAppJson } from './wire/app-json.js';
import { RejectReason } from '../../scheduler/index.js';
import { APP_ID, isNameable } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { error, json } from '../route-docs.js';

/** The operations of `/v2/queue`. */
export const QUEUE_ROUTES = defineRoutes({
  getQueue: {
    method: 'get',
    path: '/v2/queue',
    operationId: 'getQueue',
    summary: 'Instances waiting for agents, their backoff delay and why agents refused them',
    tag: 'queue',
    answers: { '200': json('The queue.', 'Queue') },
  },
  resetQueueDelay: {
    method: 'delete',
    path: '/v2/queue/{id}/delay',
    operationId: 'resetQueueDelay',
    summary: 'Reset the launch backoff of an app',
    tag: 'queue',
    params: {
      id: {
        ...APP_ID,
        check: (value) => {
          const id = canonicalPath(value);
          return isNameable(id) && isValidPathId(id)
            ? undefined
            : new NotFoundError(`Application ${id} not found in tasks queue.`);
        },
      },
    },
    answers: { '204': { description: 'Reset.' }, '404': error('The app is not in the queue.') },
  },
});

/** Routes of `/v2/queue`. */
export function queueRoutes(deps: RouteDeps): Hono {
  const { orchestrator, queue, reads } = deps;
  const clock = deps.clock ?? systemClock;
  const routes = new Hono();

  on(routes, QUEUE_ROUTES.getQueue, async (c) => {
    const now = clock.now();
    const snapshot = await reads.snapshot();
    const principal = principalOf(c);
    const waiting = new Map<string, Instance[]>();
    for (const instance of snapshot.instances) {
      if (instance.condition !== 'Scheduled' || instance.goal !== 'Running') continue;
      if (!canView(principal, instance.appId)) continue;
      waiting.set(instance.appId, [...(waiting.get(instance.appId) ?? []), instance]);
    }
    const items = [];
    for (const [appId, instances] of [...waiting].sort(([a], [b]) => a.localeCompare(b))) {
      const app = snapshot.appById.get(appId);
      if (!app) continue;
      const deadline = queue?.get(appId)?.deadline ?? 0;
      const rejections = queue?.rejections?.(appId);
      const processed = rejections?.agentsEvaluated ?? 0;
      const summaryOf = (
        tally: { agentsEvaluated: number; reasons: Partial<Record<string, number>> } | undefined,
      ) =>
        RejectReason.map((reason) => ({
          reason,
          declined: tally?.reasons[reason] ?? 0,
          processed: tally?.agentsEvaluated ?? 0,
        }));
      const attempt = rejections?.attempt ?? rejections;
      items.push({
        app: toAppJson(app),
        count: instances.length,
        delay: {
          timeLeftSeconds: Math.max(0, Math.ceil((deadline - now) / 1000)),
          overdue: deadline <= now,
        },
        since: instances.map((i) => i.conditionChangedAt).sort()[0] ?? toTimestamp(now),
        processedOffersSummary: {
          processedOffersCount: processed,
          unusedOffersCount: processed,
          ...(rejections ? { lastUnusedOfferAt: toTimestamp(rejections.at) } : {}),
          ...(rejections?.lastPlacedAt === undefined
            ? {}
            : { lastUsedOfferAt: toTimestamp(rejections.lastPlacedAt) }),
          rejectSummaryLastOffers: summaryOf(rejections),
          rejectSummaryLaunchAttempt: summaryOf(attempt),
        },
        role: app.role ?? '*',
      });
    }
    return c.json({ queue: items });
  });

  on(routes, QUEUE_ROUTES.resetQueueDelay, async (c) => {
    const id = canonicalPath(c.req.param('id') ?? '');
    // The issue puts queue delays under `admin` (on the app's path: a team admin may reset it).
    authorize(c, Action.ADMIN, id);
    if (!(await orchestrator.resetDelay(id))) {
      throw new NotFoundError(`Application ${id} not found in tasks queue.`);
    }
    // COMPAT: Marathon answers 204 here (its RAML says 200).
    return c.body(null, 204);
  });

  return routes;
}
