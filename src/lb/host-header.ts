// The host name of a `Host` header, as routes match it: lower case, port and trailing dot
// dropped; anything that is not a plausible host name matches nothing (never throws).

/** Longest DNS name; a longer header cannot match a route, so it is not even lowered. */
const MAX_HOST_LENGTH = 253;
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** The normalised host name, or undefined when `header` cannot name a route. */
export function hostOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_HOST_LENGTH + 6) return undefined;
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    host = host.slice(0, end + 1);
    return IPV6.test(host) ? host : undefined;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > MAX_HOST_LENGTH) return undefined;
  return HOST_NAME.test(host) ? host : undefined;
}

/** The first `Host` header of a raw header list (the one Node and the routes go by). */
export function hostHeaderOf(rawHeaders: string[]): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') return rawHeaders[i + 1];
  }
  return undefined;
}
