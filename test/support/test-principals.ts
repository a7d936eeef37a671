// A stand-in Authenticator for route tests: `Authorization: Bearer <name>` proves the principal
// of that name from a fixed table (the real one, with hashed secrets, is tested in api/auth/).
import { UnauthenticatedError } from '../../src/domain/index.js';
import type { Principal } from '../../src/domain/index.js';
import type { Authenticator } from '../../src/api/auth/index.js';

/** Authenticates `Bearer <name>` as `principals[name]`; anything else is 401. */
export function principalsByName(principals: Principal[]): Authenticator {
  const byName = new Map(principals.map((p) => [p.name, p]));
  return {
    authenticate(header) {
      const principal = byName.get(header?.replace(/^Bearer /, '') ?? '');
      if (!principal) throw new UnauthenticatedError();
      return principal;
    },
    revoke() {},
    onRevoke: () => () => {},
  };
}

/** Headers that authenticate as `name` with `principalsByName`. */
export function as(name: string, headers: Record<string, string> = {}): Record<string, string> {
  return { ...headers, Authorization: `Bearer ${name}` };
}
