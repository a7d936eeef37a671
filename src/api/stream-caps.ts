// Caps on long-lived answers (event streams, log follows), in total and per principal: each
// holds memory, a subscription and, for a log follow, a Redis connection, until its client leaves.
import { ApiError, ApiErrorCode } from './errors.js';

/** How many streams of one kind may be open: at all, and by one principal. */
export interface StreamCapLimits {
  total: number;
  perPrincipal: number;
}

/** Counts open streams of one kind. */
export interface StreamCap {
  /**
   * Counts one more stream of `principal`, or throws 429 (`TOO_MANY_REQUESTS`) when a limit is
   * reached. Returns the release, to call once when the stream ends (later calls do nothing).
   */
  acquire(principal: string): () => void;
  /** Streams open now, in total. */
  open(): number;
}

/** A cap of `limits` on streams called `what` in the 429 messages ("event streams"). */
export function createStreamCap(options: { what: string; limits: StreamCapLimits }): StreamCap {
  const { what, limits } = options;
  const byPrincipal = new Map<string, number>();
  let total = 0;
  return {
    acquire(principal) {
      const mine = byPrincipal.get(principal) ?? 0;
      if (total >= limits.total) {
        throw new ApiError(
          ApiErrorCode.TOO_MANY_REQUESTS,
          `Too many open ${what}: the limit is ${limits.total}`,
        );
      }
      if (mine >= limits.perPrincipal) {
        throw new ApiError(
          ApiErrorCode.TOO_MANY_REQUESTS,
          `Too many open ${what} for '${principal}': the limit is ${limits.perPrincipal} per principal`,
        );
      }
      total++;
      byPrincipal.set(principal, mine + 1);
      let isReleased = false;
      return () => {
        if (isReleased) return;
        isReleased = true;
        total--;
        const left = (byPrincipal.get(principal) ?? 1) - 1;
        if (left === 0) byPrincipal.delete(principal);
        else byPrincipal.set(principal, left);
      };
    },
    open: () => total,
  };
}

/** Default caps on `/v2/events` streams (each a subscription and a send buffer). */
export const DEFAULT_EVENT_STREAM_LIMITS: StreamCapLimits = { total: 1000, perPrincipal: 100 };
/** Default caps on log follows (each holds a Redis connection on a master with Redis). */
export const DEFAULT_LOG_FOLLOW_LIMITS: StreamCapLimits = { total: 200, perPrincipal: 20 };
