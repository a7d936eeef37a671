// What `/v2/queue` shows: per app, the instances waiting for an agent, their backoff delay and
// why recent placement attempts refused the agents (Marathon's processedOffersSummary).
import type { AppDefinition } from '../domain/index.js';
import { toTimestamp } from '../domain/index.js';
import type { Clock } from '../lib/index.js';
import type { Plan, RejectReason } from '../scheduler/index.js';
import type { InstanceTracker } from './instance-tracker.js';
import type { LaunchQueue } from './launch-queue.js';

export interface DeclinedOfferStep {
  reason: RejectReason;
  declined: number;
  processed: number;
}

export interface QueueEntry {
  app: AppDefinition;
  /** Instances left to launch. */
  count: number;
  role: string;
  delay: { timeLeftSeconds: number; overdue: boolean };
  /** When the oldest waiting instance started waiting. */
  since: string;
  processedOffersSummary: {
    processedOffersCount: number;
    unusedOffersCount: number;
    lastUnusedOfferAt?: string;
    lastUsedOfferAt?: string;
    rejectSummaryLastOffers: DeclinedOfferStep[];
    rejectSummaryLaunchAttempt: DeclinedOfferStep[];
  };
}

export interface QueueView {
  /** Records a placement round (called by the evaluation loop). */
  record(plan: Plan, now: number): void;
  /** The queue for `/v2/queue`, given the current apps. */
  list(apps: AppDefinition[]): QueueEntry[];
}

interface AppStats {
  processed: number;
  unused: number;
  lastUnusedAt?: number;
  lastUsedAt?: number;
  last: Map<RejectReason, number>;
  lastProcessed: number;
  attempt: Map<RejectReason, number>;
}

function steps(counts: Map<RejectReason, number>, processed: number): DeclinedOfferStep[] {
  return [...counts].map(([reason, declined]) => ({ reason, declined, processed }));
}

export function createQueueView(options: { tracker: InstanceTracker; launchQueue: LaunchQueue; clock: Clock }): QueueView {
  const { tracker, launchQueue, clock } = options;
  const stats = new Map<string, AppStats>();

  function statsOf(appId: string): AppStats {
    let s = stats.get(appId);
    if (!s) stats.set(appId, (s = { processed: 0, unused: 0, last: new Map(), lastProcessed: 0, attempt: new Map() }));
    return s;
  }

  return {
    record(plan, now) {
      const roundByApp = new Map<string, { processed: number; reasons: Map<RejectReason, number> }>();
      for (const placement of plan.placements) {
        const s = statsOf(placement.appId);
        s.processed++;
        s.lastUsedAt = now;
      }
      for (const unplaced of plan.unplaced) {
        const s = statsOf(unplaced.appId);
        s.processed += unplaced.agentsEvaluated;
        s.unused += unplaced.agentsEvaluated;
        s.lastUnusedAt = now;
        const round = roundByApp.get(unplaced.appId) ?? { processed: 0, reasons: new Map() };
        round.processed = Math.max(round.processed, unplaced.agentsEvaluated);
        for (const [reason, count] of Object.entries(unplaced.reasons) as [RejectReason, number][]) {
          round.reasons.set(reason, Math.max(round.reasons.get(reason) ?? 0, count));
          s.attempt.set(reason, (s.attempt.get(reason) ?? 0) + count);
        }
        roundByApp.set(unplaced.appId, round);
      }
      for (const [appId, round] of roundByApp) {
        const s = statsOf(appId);
        s.last = round.reasons;
        s.lastProcessed = round.processed;
      }
    },

    list(apps) {
      const now = clock.now();
      const entries: QueueEntry[] = [];
      for (const app of apps) {
        const waiting = tracker.byApp(app.id).filter((i) => i.goal === 'Running' && i.condition === 'Scheduled');
        if (waiting.length === 0) {
          // A finished launch attempt: the next one starts its summary afresh.
          stats.delete(app.id);
          continue;
        }
        const notBefore = Math.max(launchQueue.notBefore(app), ...waiting.map((i) => i.launchNotBefore));
        const s = statsOf(app.id);
        const attemptProcessed = s.processed;
        entries.push({
          app,
          count: waiting.length,
          role: app.role ?? '*',
          delay: { timeLeftSeconds: Math.max(0, Math.ceil((notBefore - now) / 1000)), overdue: notBefore <= now },
          since: waiting.map((i) => i.conditionChangedAt).sort()[0] ?? toTimestamp(now),
          processedOffersSummary: {
            processedOffersCount: s.processed,
            unusedOffersCount: s.unused,
            ...(s.lastUnusedAt !== undefined ? { lastUnusedOfferAt: toTimestamp(s.lastUnusedAt) } : {}),
            ...(s.lastUsedAt !== undefined ? { lastUsedOfferAt: toTimestamp(s.lastUsedAt) } : {}),
            rejectSummaryLastOffers: steps(s.last, s.lastProcessed),
            rejectSummaryLaunchAttempt: steps(s.attempt, attemptProcessed),
          },
        });
      }
      return entries;
    },
  };
}
