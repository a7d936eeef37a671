// The API's request counts and latencies, by route template, method and status. Counted on the
// hot path of every request, so not through prom-client: its `observe` validates and hashes the
// label object on each call (about a third of what answering `GET /v2/apps/{id}` from memory
// costs). Here the edge resolves a recorder once per route and method, and a request costs a
// map lookup by status and a few additions; the text is rendered at scrape time, in the shape
// prom-client gives its histograms and counters.
import { escapeLabel } from '../../lib/index.js';

/** Counts one answer of a route and method: its status and its time in seconds. */
export type RequestRecorder = (status: number, seconds: number) => void;

/** Upper bounds of the latency buckets, in seconds. */
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

const DURATION = 'pacer_http_request_duration_seconds';
const TOTAL = 'pacer_http_requests_total';

interface Series {
  /** `route="…",method="…",status="…"`, escaped. */
  labels: string;
  method: string;
  status: number;
  /** Answers per bucket, not cumulative; the last one counts those above every bound. */
  buckets: number[];
  sum: number;
  count: number;
}

export interface RequestSeries {
  /** The recorder of `route` (a route template or `unmatched`) and `method`; the same each call. */
  recorder(route: string, method: string): RequestRecorder;
  /** Prometheus text of the duration histogram and the request counter. */
  render(): string;
}

export function createRequestSeries(): RequestSeries {
  const series: Series[] = [];
  const recorders = new Map<string, RequestRecorder>();

  function recorder(route: string, method: string): RequestRecorder {
    const key = `${method} ${route}`;
    const known = recorders.get(key);
    if (known) return known;
    const byStatus = new Map<number, Series>();
    const labels = `route="${escapeLabel(route)}",method="${escapeLabel(method)}"`;
    const record: RequestRecorder = (status, seconds) => {
      let counted = byStatus.get(status);
      if (counted === undefined) {
        counted = {
          labels: `${labels},status="${status}"`,
          method,
          status,
          buckets: new Array<number>(BOUNDS.length + 1).fill(0),
          sum: 0,
          count: 0,
        };
        byStatus.set(status, counted);
        series.push(counted);
      }
      let bucket = 0;
      while (bucket < BOUNDS.length && seconds > (BOUNDS[bucket] as number)) bucket++;
      counted.buckets[bucket] = (counted.buckets[bucket] ?? 0) + 1;
      counted.sum += seconds;
      counted.count++;
    };
    recorders.set(key, record);
    return record;
  }

  function render(): string {
    const lines = [
      `# HELP ${DURATION} Time to answer an API request, by route template, method and status.`,
      `# TYPE ${DURATION} histogram`,
    ];
    const totals = new Map<string, number>();
    for (const s of series) {
      let cumulative = 0;
      BOUNDS.forEach((bound, i) => {
        cumulative += s.buckets[i] ?? 0;
        lines.push(`${DURATION}_bucket{le="${bound}",${s.labels}} ${cumulative}`);
      });
      lines.push(`${DURATION}_bucket{le="+Inf",${s.labels}} ${s.count}`);
      lines.push(`${DURATION}_sum{${s.labels}} ${s.sum}`);
      lines.push(`${DURATION}_count{${s.labels}} ${s.count}`);
      const total = `method="${escapeLabel(s.method)}",status="${s.status}"`;
      totals.set(total, (totals.get(total) ?? 0) + s.count);
    }
    lines.push('', `# HELP ${TOTAL} API requests answered, by method and status.`);
    lines.push(`# TYPE ${TOTAL} counter`);
    for (const [labels, n] of totals) lines.push(`${TOTAL}{${labels}} ${n}`);
    return lines.join('\n');
  }

  return { recorder, render };
}
