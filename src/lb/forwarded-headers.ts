// The headers a request and a response carry across the balancer: hop-by-hop headers dropped
// (RFC 9110 7.6.1: the fixed set and whatever `Connection` names), `X-Forwarded-*` set. A client's
// own `X-Forwarded-Proto`/`-Host`/`-Port` are replaced, never believed; `X-Forwarded-For` is
// appended to, as proxies in a chain do.
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // undici refuses to send it, and the balancer already answered `100 Continue` itself.
  'expect',
]);

const FORWARDED = new Set(['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port']);

function connectionListed(value: string | string[] | undefined): Set<string> {
  const listed = new Set<string>();
  if (value === undefined) return listed;
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(','))
    listed.add(part.trim().toLowerCase());
  return listed;
}

/** The client's address as written in `X-Forwarded-For` (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

/** Headers for the upstream request. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  client: { address: string; host: string; port: number },
): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection);
  const out: Record<string, string | string[]> = Object.create(null) as Record<
    string,
    string | string[]
  >;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || FORWARDED.has(name))
      continue;
    out[name] = value;
  }
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior
    ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client.address}`
    : client.address;
  out['x-forwarded-proto'] = 'http';
  out['x-forwarded-host'] = client.host;
  out['x-forwarded-port'] = String(client.port);
  return out;
}

/**
 * Headers of the upstream response, for the client, from undici's raw list (name, value, name,
 * value, … as bytes): a flat list for `writeHead`, repeated names (`Set-Cookie`) kept in order,
 * the bytes kept as they came (latin1 both ways).
 */
export function downstreamRawHeaders(raw: Buffer[]): string[] {
  const strings = raw.map((bytes) => bytes.toString('latin1'));
  const connection: string[] = [];
  for (let i = 0; i + 1 < strings.length; i += 2) {
    if ((strings[i] as string).toLowerCase() === 'connection')
      connection.push(strings[i + 1] as string);
  }
  const listed = connection.length > 0 ? connectionListed(connection) : undefined;
  const out: string[] = [];
  for (let i = 0; i + 1 < strings.length; i += 2) {
    const name = strings[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(name, strings[i + 1] as string);
  }
  return out;
}
