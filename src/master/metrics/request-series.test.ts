// request-series: the API's request histogram and counter, rendered as Prometheus text in
// prom-client's shape, with label values escaped and counts by method and status summed over
// routes.
import { describe, expect, it } from 'vitest';
import { createRequestSeries } from './request-series.js';

describe('createRequestSeries', () => {
  it('renders cumulative buckets, sum and count per route, method and status', () => {
    const series = createRequestSeries();
    const getApp = series.recorder('/v2/apps/:id{.+}', 'GET');
    getApp(200, 0.0004);
    getApp(200, 0.003);
    getApp(404, 7);
    const text = series.render();
    const labels = 'route="/v2/apps/:id{.+}",method="GET",status="200"';
    expect(text).toContain('# TYPE pacer_http_request_duration_seconds histogram');
    expect(text).toContain(`pacer_http_request_duration_seconds_bucket{le="0.001",${labels}} 1`);
    expect(text).toContain(`pacer_http_request_duration_seconds_bucket{le="0.0025",${labels}} 1`);
    expect(text).toContain(`pacer_http_request_duration_seconds_bucket{le="0.005",${labels}} 2`);
    expect(text).toContain(`pacer_http_request_duration_seconds_bucket{le="+Inf",${labels}} 2`);
    expect(text).toContain(`pacer_http_request_duration_seconds_sum{${labels}} 0.0034`);
    expect(text).toContain(`pacer_http_request_duration_seconds_count{${labels}} 2`);
    // Above every bound: only +Inf counts it.
    const missing = 'route="/v2/apps/:id{.+}",method="GET",status="404"';
    expect(text).toContain(`pacer_http_request_duration_seconds_bucket{le="2.5",${missing}} 0`);
    expect(text).toContain(`pacer_http_request_duration_seconds_bucket{le="+Inf",${missing}} 1`);
  });

  it('gives one recorder per route and method, and sums the counter over routes', () => {
    const series = createRequestSeries();
    expect(series.recorder('/v2/apps', 'GET')).toBe(series.recorder('/v2/apps', 'GET'));
    series.recorder('/v2/apps', 'GET')(200, 0.001);
    series.recorder('/v2/groups', 'GET')(200, 0.001);
    series.recorder('/v2/apps', 'POST')(201, 0.01);
    const text = series.render();
    expect(text).toContain('# TYPE pacer_http_requests_total counter');
    expect(text).toMatch(/^pacer_http_requests_total\{method="GET",status="200"\} 2$/m);
    expect(text).toMatch(/^pacer_http_requests_total\{method="POST",status="201"\} 1$/m);
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    const series = createRequestSeries();
    series.recorder('/v2/apps/:groupId{.+}/:star{\\*}', 'GET')(200, 0.001);
    series.recorder('a"b\nc', 'GET')(200, 0.001);
    const text = series.render();
    expect(text).toContain('route="/v2/apps/:groupId{.+}/:star{\\\\*}"');
    expect(text).toContain('route="a\\"b\\nc"');
  });
});
