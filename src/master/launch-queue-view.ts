// What `/v2/queue` needs from the master beyond the store: per app, the backoff deadline and
// how agents answered its placement attempts (Marathon's processedOffersSummary): the last round,
// and every round of the current launch attempt added up.
import type { Plan, RejectReason } from '../scheduler/index.js';
import type { LaunchQueue } from './launch-queue.js';

/** How agents answered placement rounds: agents visited, and refusals by reason. */
export interface RejectionTally {
  agentsEvaluated: number;
  reasons: Partial<Record<RejectReason, number>>;
}

export interface Rejections extends RejectionTally {
  /** epoch ms of the last round */
  at: number;
  /**
   * Every round since the app's launch attempt began (its first round with an instance left
   * waiting, after the last round that left none waiting), added up.
   */
  attempt: RejectionTally;
  /** epoch ms of the app's last placement, if any since the attempt began. */
  lastPlacedAt?: number;
}

export interface QueueView {
  /** Records a placement round (called by the evaluation loop). */
  record(plan: Plan, now: number): void;
  /** The current backoff of an app; undefined = none. */
  get(appId: string): { deadline: number } | undefined;
  /** The app's placement attempts, while some instance of it waits; undefined otherwise. */
  rejections(appId: string): Rejections | undefined;
}

/** Apps tracked at most: an app beyond it starts no tally (bounded memory under any load). */
const MAX_APPS = 100_000;

export function createQueueView(options: { launchQueue: LaunchQueue }): QueueView {
  const last = new Map<string, Rejections>();
  return {
    record(plan, now) {
      const waiting = new Set(plan.unplaced.map((u) => u.appId));
      const placedAt = new Map<string, number>();
      for (const placement of plan.placements) {
        // All of it placed: the launch attempt is over.
        if (!waiting.has(placement.appId)) last.delete(placement.appId);
        else placedAt.set(placement.appId, now);
      }
      for (const unplaced of plan.unplaced) {
        const round = last.get(unplaced.appId);
        // Every unplaced instance of an app saw the same agents; keep one count per round.
        if (round?.at === now) continue;
        if (!round && last.size >= MAX_APPS) continue;
        const attempt: RejectionTally = round
          ? {
              agentsEvaluated: round.attempt.agentsEvaluated,
              reasons: { ...round.attempt.reasons },
            }
          : { agentsEvaluated: 0, reasons: {} };
        attempt.agentsEvaluated += unplaced.agentsEvaluated;
        for (const [reason, count] of Object.entries(unplaced.reasons) as [RejectReason, number][])
          attempt.reasons[reason] = (attempt.reasons[reason] ?? 0) + count;
        const lastPlacedAt = placedAt.get(unplaced.appId) ?? round?.lastPlacedAt;
        last.set(unplaced.appId, {
          agentsEvaluated: unplaced.agentsEvaluated,
          reasons: unplaced.reasons,
          at: now,
          attempt,
          ...(lastPlacedAt === undefined ? {} : { lastPlacedAt }),
        });
      }
    },
    get: (appId) => options.launchQueue.get(appId),
    rejections: (appId) => last.get(appId),
  };
}
