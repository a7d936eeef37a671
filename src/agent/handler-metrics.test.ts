import { describe, expect, it } from 'vitest';
import { createHandlerMetrics } from './handler-metrics.js';

describe('handler metrics', () => {
  it('counts requests, 5xx answers and fuel in cumulative buckets', () => {
    const metrics = createHandlerMetrics();
    metrics.onRequest({ status: 200, fuelUsed: 50_000 });
    metrics.onRequest({ status: 200, fuelUsed: 2_000_000 });
    metrics.onRequest({ status: 503, fuelUsed: 5e10 });
    metrics.onRequest({ status: 413 });
    expect(metrics.snapshot()).toEqual({
      requests: 4,
      serverErrors: 1,
      fuelSum: 50_000 + 2_000_000 + 5e10,
      fuelBuckets: [1, 1, 2, 2, 2, 2],
    });
  });

  it('leaves fuel that is not a finite count out of the sum and the buckets', () => {
    const metrics = createHandlerMetrics();
    for (const fuelUsed of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      metrics.onRequest({ status: 200, fuelUsed });
    }
    expect(metrics.snapshot()).toMatchObject({ requests: 3, fuelSum: 0 });
    expect(metrics.snapshot().fuelBuckets.every((n) => n === 0)).toBe(true);
  });
});
