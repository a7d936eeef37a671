// Reading requests the way Marathon clients send them: JSON bodies with Jackson-like errors,
// capitalised booleans in the query, repeatable parameters, doubled slashes in paths.
import type { Context } from 'hono';
import { BadRequestError, ValidationError } from '../domain/index.js';
import type { Violation } from '../domain/index.js';
import { ApiError, ApiErrorCode } from './errors.js';

/**
 * Parses the body as JSON. An empty body or malformed JSON answers 400
 * `{"message":"Invalid JSON","details":"<parser message>"}`.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    throw new ApiError(
      ApiErrorCode.INVALID_JSON,
      'Invalid JSON',
      'No content to map due to end-of-input',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError(ApiErrorCode.INVALID_JSON, 'Invalid JSON', (error as Error).message);
  }
  // Only an escape can put a NUL in a parsed string (JSON refuses a raw one): walk only then.
  if (text.includes('\\u0000')) {
    const violations: Violation[] = [];
    findNul(json, '', violations);
    if (violations.length > 0) throw new ValidationError(violations);
  }
  return json;
}

const NUL_MESSAGE = 'must not contain the NUL character (\\u0000)';

/**
 * Pushes a violation (Marathon's path syntax) for each string or key holding a NUL: no id, name
 * or value of Pacer may hold one, and Postgres refuses it in text and JSON, which would make the
 * request fail with a 5xx after validation.
 */
function findNul(value: unknown, path: string, violations: Violation[]): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) violations.push({ path: path || '/', errors: [NUL_MESSAGE] });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findNul(item, `${path}(${index})`, violations));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000'))
        violations.push({ path: `${path}/${key}`, errors: [NUL_MESSAGE] });
      findNul(item, `${path}/${key}`, violations);
    }
  }
}

/**
 * A boolean query parameter. Any case of `true` is true (`True`, `TRUE`); any other given value
 * is false, as Jersey's `Boolean.valueOf`; absent or empty gives `fallback`.
 */
export function queryBoolean(c: Context, name: string, fallback: boolean): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  return value.toLowerCase() === 'true';
}

/** Every value of a repeatable parameter, also accepting the `name[]` spelling. */
export function queryAll(c: Context, name: string): string[] {
  // Reads without a query string are most of them: skip parsing the URL twice.
  if (!c.req.url.includes('?')) return [];
  return [...(c.req.queries(name) ?? []), ...(c.req.queries(`${name}[]`) ?? [])];
}

/** A non-negative integer query parameter; a malformed one answers 400. */
export function queryInteger(c: Context, name: string, fallback: number): number {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) {
    throw new BadRequestError(`Query parameter '${name}' must be a non-negative integer`);
  }
  return Number(value);
}

/**
 * The request path as routing sees it: doubled slashes collapsed (clients build
 * `'/v2/apps/' + '/group/app'`) and a trailing slash dropped.
 */
export function routingPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  const end = query >= 0 ? query : hash >= 0 ? hash : url.length;
  const raw = url.slice(start, end);
  const path = raw.includes('//') ? raw.replace(/\/{2,}/g, '/') : raw;
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** What the edge (server.ts) adds to Node's per-request `env`: the routing path, computed once. */
export interface RoutedEnv {
  routingPath?: string;
}

/**
 * The routing path of `request`: the one the edge put on `env` when it has (every request Node
 * serves), so the router, authentication and metrics do not parse the URL again; else computed.
 */
export function routingPathOf(request: Request, env?: unknown): string {
  return (env as RoutedEnv | undefined)?.routingPath ?? routingPath(request);
}

/** Decodes a path remainder segment by segment; malformed escapes answer 400. */
export function decodePath(raw: string): string {
  try {
    return raw
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    throw new BadRequestError(`Malformed path '${raw}'`);
  }
}
