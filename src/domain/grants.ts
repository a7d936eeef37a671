// Who may do what: principals hold grants (Marathon's authorizer model). Pure: the API asks
// `isAllowed` before each action; the store keeps principals; nothing here does I/O.

/** Actions on app and group ids under a path prefix; `admin` covers everything else. */
export const Action = {
  VIEW: 'view',
  CREATE: 'create',
  UPDATE: 'update',
  DELETE: 'delete',
  ADMIN: 'admin',
} as const;
export type Action = (typeof Action)[keyof typeof Action];

/** `actions` on every id at or under `path` (`/team-a` covers `/team-a` and `/team-a/x`). */
export interface Grant {
  path: string;
  actions: Action[];
}

/** An authenticated caller (an API token or the bootstrap principal). */
export interface Principal {
  name: string;
  grants: Grant[];
}

/** With authentication off, every caller acts as this principal. */
export const ANONYMOUS_ADMIN: Principal = {
  name: 'anonymous',
  grants: [{ path: '/', actions: [Action.ADMIN] }],
};

/** True when `prefix` is `/` or `path` is `prefix` or lies under it (segment-wise). */
export function isUnderPath(path: string, prefix: string): boolean {
  const p = prefix.endsWith('/') && prefix.length > 1 ? prefix.slice(0, -1) : prefix;
  return p === '/' || path === p || path.startsWith(`${p}/`);
}

/**
 * True when `principal` may do `action` on the id `path` (an absolute app or group id).
 * `admin` on `/` allows everything; `admin` under a prefix allows every action under it.
 */
export function isAllowed(principal: Principal, action: Action, path = '/'): boolean {
  return principal.grants.some(
    (grant) =>
      isUnderPath(path, grant.path) &&
      (grant.actions.includes(action) || grant.actions.includes(Action.ADMIN)),
  );
}
