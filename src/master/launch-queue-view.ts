// What `/v2/queue` needs from the master beyond the store: per app, the backoff deadline and
// how agents answered its last placement attempt (Marathon's processedOffersSummary).
import type { Plan, RejectReason } from '../scheduler/index.js';
import type { LaunchQueue } from './launch-queue.js';

export interface Rejections {
  agentsEvaluated: number;
  reasons: Partial<Record<RejectReason, number>>;
  /** epoch ms */
  at: number;
}

export interface QueueView {
  /** Records a placement round (called by the evaluation loop). */
  record(plan: Plan, now: number): void;
  /** The current backoff of an app; undefined = none. */
  get(appId: string): { deadline: number } | undefined;
  /** The app's last placement attempt that left instances unplaced. */
  rejections(appId: string): Rejections | undefined;
}

export function createQueueView(options: { launchQueue: LaunchQueue }): QueueView {
  const last = new Map<string, Rejections>();
  return {
    record(plan, now) {
      for (const placement of plan.placements) last.delete(placement.appId);
      for (const unplaced of plan.unplaced) {
        const round = last.get(unplaced.appId);
        // Every unplaced instance of an app saw the same agents; keep one count per round.
        if (round?.at === now) continue;
        last.set(unplaced.appId, {
          agentsEvaluated: unplaced.agentsEvaluated,
          reasons: unplaced.reasons,
          at: now,
        });
      }
    },
    get: (appId) => options.launchQueue.get(appId),
    rejections: (appId) => last.get(appId),
  };
}
