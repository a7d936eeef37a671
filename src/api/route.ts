// Routes declared once: each operation states its method, path, parameters, body and answers
// (the OpenAPI document is generated from these declarations, openapi/document.ts), and `on`
// mounts a handler on exactly that declaration, checking its path parameters first.
import type { Context, Hono } from 'hono';
import type { ParameterObject } from 'openapi3-ts/oas31';

/** One answer: a status with a component schema (JSON) or another media type. */
export interface Answer {
  description: string;
  /** Component schema name of a JSON body. */
  schema?: string;
  /** Media type of a non-JSON body (text, wasm, event stream). */
  media?: { type: string; schema: Record<string, unknown> };
  /** True when the answer carries `Marathon-Deployment-Id` (and `Location` on 201). */
  isDeployment?: boolean;
}

/**
 * A path parameter: how it is matched and what a value that can name nothing answers. Checked
 * before the handler runs, so no such value reaches the store (a NUL byte would make Postgres
 * fail) and every one gets Marathon's answer for an unknown or invalid id, never a 5xx.
 */
export interface PathParam {
  description?: string;
  /**
   * The value's pattern in Hono's syntax: `.+` for Marathon's greedy ids (`{id:.+}`, may hold
   * `/`); one path segment when absent.
   */
  match?: string;
  /** A regular expression the documented value matches (the document only; `check` enforces). */
  pattern?: string;
  /** The error for a value that cannot name anything (undefined: the value may go on). */
  check(value: string, c?: Context): Error | undefined;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One operation of the API: everything the document says of it, and what `on` mounts. */
export interface RouteSpec {
  method: Method;
  /**
   * OpenAPI form: `/v2/apps/{id}/tasks`. A `*` segment is a literal star (Marathon's
   * `{group}/*`), not a wildcard.
   */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Every `{name}` of `path`, by name. */
  params?: Record<string, PathParam>;
  query?: ParameterObject[];
  /** Component schema name of a JSON body, or a raw media type. */
  body?: { schema: string; isArray?: boolean } | { media: string };
  answers: Record<string, Answer>;
  /** Answered without credentials when authentication is on (auth/authenticate-request.ts `isOpenPath`). */
  isOpen?: boolean;
}

/** The operations of one router, by a name its handlers are mounted with. */
export function defineRoutes<const T extends Record<string, RouteSpec>>(routes: T): T {
  for (const [name, route] of Object.entries(routes)) {
    const named = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const declared = Object.keys(route.params ?? {});
    if (named.join() !== declared.join())
      throw new Error(
        `route ${name}: path parameters ${named.join()} ≠ declared ${declared.join()}`,
      );
  }
  return routes;
}

/** The Hono path of a route: `{id}` → `:id{.+}` (its `match`), a literal `*` → `:star{\*}`. */
export function honoPath(route: RouteSpec): string {
  return route.path.replace(/\{([^}]+)\}|(?<=\/)\*$/g, (segment: string, name?: string) => {
    if (name === undefined) return ':star{\\*}';
    const match = route.params?.[name]?.match;
    return match ? `:${name}{${match}}` : `:${name}`;
  });
}

/** `METHOD honoPath` of a route, as the registered-routes test compares them. */
export function routeKey(route: RouteSpec): string {
  return `${route.method.toUpperCase()} ${honoPath(route)}`;
}

type RouteHandler = (c: Context) => Response | Promise<Response>;

/**
 * Mounts `handler` on `route`. Path parameters are checked first; the handler runs in the same
 * turn (a synchronous handler stays synchronous: the hot reads answer without a promise).
 */
export function on(routes: Hono, route: RouteSpec, handler: RouteHandler): void {
  const params = Object.entries(route.params ?? {});
  const checked: RouteHandler =
    params.length === 0
      ? handler
      : (c) => {
          for (const [name, param] of params) {
            const error = param.check(c.req.param(name) ?? '', c);
            if (error) throw error;
          }
          return handler(c);
        };
  routes.on(route.method.toUpperCase(), honoPath(route), checked);
}
