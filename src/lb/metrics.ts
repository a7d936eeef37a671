// The balancer's Prometheus metrics, kept in Maps (app ids are user data: no object keys) and
// written in the text exposition format at `/_pacer/lb/metrics`.

import { escapeLabel } from '../lib/index.js';

/** Upstream latency buckets, seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface LbMetrics {
  /** One request answered for `appId` (empty when no route) with `status`. */
  countRequest(appId: string, status: number): void;
  /** Time from sending upstream to the response headers. */
  observeUpstream(appId: string, seconds: number): void;
  countRetry(appId: string): void;
  /** Text for a scrape; `gauges` are read at scrape time. */
  render(gauges: {
    backends: Map<string, number>;
    inFlight: number;
    connections: number;
    eventStreamConnects: number;
    eventStreamConnected: boolean;
  }): string;
}

export function createLbMetrics(): LbMetrics {
  const requests = new Map<string, Map<number, number>>();
  const retries = new Map<string, number>();
  const latency = new Map<string, { buckets: number[]; sum: number; count: number }>();

  return {
    countRequest(appId, status) {
      const byStatus = requests.get(appId) ?? new Map<number, number>();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      requests.set(appId, byStatus);
    },
    observeUpstream(appId, seconds) {
      const h = latency.get(appId) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      for (let i = 0; i < BUCKETS.length; i += 1)
        if (seconds <= (BUCKETS[i] as number)) h.buckets[i] = (h.buckets[i] as number) + 1;
      h.sum += seconds;
      h.count += 1;
      latency.set(appId, h);
    },
    countRetry(appId) {
      retries.set(appId, (retries.get(appId) ?? 0) + 1);
    },
    render(gauges) {
      const lines: string[] = [];
      lines.push('# HELP pacer_lb_requests_total Requests answered, by app and HTTP status.');
      lines.push('# TYPE pacer_lb_requests_total counter');
      for (const [app, byStatus] of requests)
        for (const [status, n] of byStatus)
          lines.push(`pacer_lb_requests_total{app="${escapeLabel(app)}",status="${status}"} ${n}`);
      lines.push('# HELP pacer_lb_upstream_retries_total Requests sent again to another backend.');
      lines.push('# TYPE pacer_lb_upstream_retries_total counter');
      for (const [app, n] of retries)
        lines.push(`pacer_lb_upstream_retries_total{app="${escapeLabel(app)}"} ${n}`);
      lines.push(
        "# HELP pacer_lb_upstream_latency_seconds Time to the backend's response headers.",
      );
      lines.push('# TYPE pacer_lb_upstream_latency_seconds histogram');
      for (const [app, h] of latency) {
        const a = escapeLabel(app);
        BUCKETS.forEach((le, i) =>
          lines.push(
            `pacer_lb_upstream_latency_seconds_bucket{app="${a}",le="${le}"} ${h.buckets[i]}`,
          ),
        );
        lines.push(`pacer_lb_upstream_latency_seconds_bucket{app="${a}",le="+Inf"} ${h.count}`);
        lines.push(`pacer_lb_upstream_latency_seconds_sum{app="${a}"} ${h.sum}`);
        lines.push(`pacer_lb_upstream_latency_seconds_count{app="${a}"} ${h.count}`);
      }
      lines.push('# HELP pacer_lb_backends Backends in rotation, by app.');
      lines.push('# TYPE pacer_lb_backends gauge');
      for (const [app, n] of gauges.backends)
        lines.push(`pacer_lb_backends{app="${escapeLabel(app)}"} ${n}`);
      lines.push('# HELP pacer_lb_requests_in_flight Requests being proxied now.');
      lines.push('# TYPE pacer_lb_requests_in_flight gauge');
      lines.push(`pacer_lb_requests_in_flight ${gauges.inFlight}`);
      lines.push('# HELP pacer_lb_client_connections Client connections open now.');
      lines.push('# TYPE pacer_lb_client_connections gauge');
      lines.push(`pacer_lb_client_connections ${gauges.connections}`);
      lines.push(
        '# HELP pacer_lb_event_stream_connects_total Times the event stream was attached.',
      );
      lines.push('# TYPE pacer_lb_event_stream_connects_total counter');
      lines.push(`pacer_lb_event_stream_connects_total ${gauges.eventStreamConnects}`);
      lines.push('# HELP pacer_lb_event_stream_connected 1 while the event stream is attached.');
      lines.push('# TYPE pacer_lb_event_stream_connected gauge');
      lines.push(`pacer_lb_event_stream_connected ${gauges.eventStreamConnected ? 1 : 0}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
