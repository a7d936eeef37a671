// A Hono router that files routes by the first two segments of their path, each bucket a
// PatternRouter: a request tests the routes of its own bucket (and the catch-alls) instead of
// every route of the API. Hono's RegExpRouter would test them all at once, but refuses the API's
// greedy ids followed by more path (`/v2/groups/:id{.+}/versions/:version`). The result of each
// path a client asks for again (a dashboard polling its apps) is remembered, bounded.
import type { Result, Router } from 'hono/router';
import { PatternRouter } from 'hono/router/pattern-router';
import { PathMemo } from './path-memo.js';

/** The bucket of a request path: its first two segments (`v2/apps`, `ping`, ``). */
function bucketOfPath(path: string): string {
  const first = path.indexOf('/', 1);
  if (first < 0) return path.slice(1);
  const second = path.indexOf('/', first + 1);
  const key = path.slice(1, second < 0 ? path.length : second);
  // `/ping/` is `/ping` to PatternRouter: a trailing slash adds no segment.
  return key.endsWith('/') ? key.slice(0, -1) : key;
}

/**
 * The bucket every path a route matches falls in, or undefined when there is no single one:
 * the first two segments are not both literal (`*`, `/:id`, `/docs/*`), so the route is
 * filed in every bucket.
 */
function bucketOfRoute(path: string): string | undefined {
  const segments = path.split('/').slice(1, 3);
  const isLiteral = (segment: string) => !/[:*?{}()]/.test(segment);
  if (!path.startsWith('/') || !segments.every(isLiteral)) return undefined;
  return segments.join('/');
}

export class PrefixRouter<T> implements Router<T> {
  name = 'PrefixRouter';
  /** Routes filed in every bucket, in the order they were added. */
  readonly #everywhere: [method: string, path: string, handler: T][] = [];
  readonly #buckets = new Map<string, PatternRouter<T>>();
  /** Paths of no bucket: only the routes filed everywhere can match them. */
  readonly #none = new PatternRouter<T>();
  /**
   * Results by method, then path: testing a bucket's patterns one by one is most of the cost of
   * routing a request. Shared between requests: Hono only reads a result (and its params).
   */
  readonly #remembered = new PathMemo<Result<T>>();

  add(method: string, path: string, handler: T): void {
    this.#remembered.clear();
    const key = bucketOfRoute(path);
    if (key === undefined) {
      this.#everywhere.push([method, path, handler]);
      for (const bucket of [this.#none, ...this.#buckets.values()]) {
        bucket.add(method, path, handler);
      }
      return;
    }
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      // Catch-alls added so far come first in the new bucket, as they were added first.
      bucket = new PatternRouter<T>();
      for (const route of this.#everywhere) bucket.add(...route);
      this.#buckets.set(key, bucket);
    }
    bucket.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const remembered = this.#remembered.get(method, path);
    if (remembered) return remembered;
    const bucket = this.#buckets.get(bucketOfPath(path)) ?? this.#none;
    return this.#remembered.remember(method, path, bucket.match(method, path));
  }
}
