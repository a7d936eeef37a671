// /v2/tasks/{taskId}/logs (Pacer's own): the last lines a task wrote, or, with `follow=true`,
// a server-sent event stream of them as they are written.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { Action, BadRequestError, NotFoundError, parseTaskId } from '../../domain/index.js';
import { authorize, principalOf } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { DEFAULT_LOG_FOLLOW_LIMITS, createStreamCap } from '../stream-caps.js';
import { queryBoolean, queryInteger } from '../request.js';
import { TASK_ID } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { boolQuery, error } from '../route-docs.js';

const DEFAULT_TAIL = 100;
const MAX_TAIL = 10_000;

/** Routes of `/v2/tasks/{taskId}/logs`. */
/** The operations of `/v2/tasks/{taskId}/logs`. */
export const LOGS_ROUTES = defineRoutes({
  getTaskLogs: {
    method: 'get',
    path: '/v2/tasks/{taskId}/logs',
    operationId: 'getTaskLogs',
    summary: 'Last lines a task wrote; `follow=true` streams them (server-sent events `log`)',
    tag: 'pacer',
    params: { taskId: TASK_ID },
    query: [
      { name: 'stream', in: 'query', schema: { type: 'string', enum: ['stdout', 'stderr'] } },
      { name: 'tail', in: 'query', schema: { type: 'integer', minimum: 0, default: 100 } },
      boolQuery(
        'follow',
        'Keep the connection open and stream new lines as server-sent events.',
        false,
      ),
    ],
    answers: {
      '200': {
        description: 'The lines (JSON), or an event stream with `follow=true`.',
        schema: 'LogLines',
        media: { type: 'text/event-stream', schema: { type: 'string' } },
      },
      '400': error('Bad `stream` or `tail`.'),
      '404': error('No such task.'),
      '429': error('Too many open log follows, in total or of this principal.'),
    },
  },
});

export function logsRoutes(deps: ApiDeps): Hono {
  const { store, logs } = deps;
  const cap = createStreamCap({
    what: 'log follows',
    limits: deps.streamCaps?.logFollows ?? DEFAULT_LOG_FOLLOW_LIMITS,
  });
  const routes = new Hono();

  on(routes, LOGS_ROUTES.getTaskLogs, async (c) => {
    const taskId = c.req.param('taskId') ?? '';
    const rawStream = c.req.query('stream');
    if (rawStream !== undefined && rawStream !== 'stdout' && rawStream !== 'stderr') {
      throw new BadRequestError("Query parameter 'stream' must be 'stdout' or 'stderr'");
    }
    const stream = rawStream;
    const tail = Math.min(queryInteger(c, 'tail', DEFAULT_TAIL), MAX_TAIL);
    const parsed = parseTaskId(taskId);
    const instance = parsed && (await store.instances.get(parsed.instanceId));
    if (!instance) throw new NotFoundError(`Task '${taskId}' does not exist`);
    authorize(c, Action.VIEW, instance.appId);
    if (!queryBoolean(c, 'follow', false)) {
      const lines = await logs.read(taskId, { tail, ...(stream ? { stream } : {}) });
      // An instance keeps the fuel of its latest ended task only.
      const fuel = instance.lastTaskFuel;
      const fuelUsed = fuel?.taskId === taskId ? fuel.fuelUsed : undefined;
      return c.json({ taskId, lines, ...(fuelUsed === undefined ? {} : { fuelUsed }) });
    }

    // 429 beyond the caps; released when the follow ends, however it ends.
    const release = cap.acquire(principalOf(c).name);
    return streamSSE(
      c,
      async (sse) => {
        const controller = new AbortController();
        sse.onAbort(() => {
          controller.abort();
          release();
        });
        try {
          const followed = logs.follow(taskId, {
            tail,
            signal: controller.signal,
            ...(stream ? { stream } : {}),
          });
          for await (const line of followed) {
            if (sse.aborted) break;
            await sse.writeSSE({ event: 'log', data: JSON.stringify(line) });
          }
        } finally {
          release();
        }
      },
      async () => release(),
    );
  });

  return routes;
}
