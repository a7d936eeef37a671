// Handler mode's per-request figures on this agent (WAGI: an instance per request): requests,
// 5xx answers, and the fuel each request used as a histogram with fixed bounds. Totals over the
// agent, not per app or task, so the snapshot each offer carries stays small and bounded.
import { HANDLER_FUEL_BOUNDS, type HandlerRequestMetrics } from '../bus/index.js';

export interface HandlerMetrics {
  /** One answered request (called by the Wasm driver's `onRequest`). */
  onRequest(figures: { fuelUsed?: number; status: number }): void;
  /** The figures so far (counters since the agent started). */
  snapshot(): HandlerRequestMetrics;
}

export function createHandlerMetrics(): HandlerMetrics {
  const counts = { requests: 0, serverErrors: 0, fuelSum: 0 };
  /** Cumulative, as Prometheus buckets are: `le` bound i counts requests at or under it. */
  const buckets: number[] = HANDLER_FUEL_BOUNDS.map(() => 0);
  return {
    onRequest({ fuelUsed, status }) {
      counts.requests++;
      if (status >= 500) counts.serverErrors++;
      if (fuelUsed === undefined || !Number.isFinite(fuelUsed) || fuelUsed < 0) return;
      counts.fuelSum += fuelUsed;
      HANDLER_FUEL_BOUNDS.forEach((bound, i) => {
        if (fuelUsed <= bound) buckets[i] = (buckets[i] as number) + 1;
      });
    },
    snapshot: () => ({ ...counts, fuelBuckets: [...buckets] }),
  };
}
