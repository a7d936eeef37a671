// The `Authorization` header as Marathon's clients send it: `Basic` (name and secret),
// `Bearer <secret>`, and DC/OS's `token=<secret>`.

/** What a header claims: a secret, and the principal's name when the scheme carries one. */
export interface Credentials {
  name?: string;
  secret: string;
}

/** Longer headers are refused before any work (a secret is ~100 characters). */
export const MAX_AUTHORIZATION_LENGTH = 4096;

/** The credentials in `header`, or undefined when it is absent, too long or malformed. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') return rest === '' ? undefined : { secret: rest };
  if (scheme.startsWith('token=')) {
    const secret = header.slice('token='.length).trim();
    return secret === '' ? undefined : { secret };
  }
  if (scheme !== 'basic' || !/^[A-Za-z0-9+/]+={0,2}$/.test(rest)) return undefined;
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
