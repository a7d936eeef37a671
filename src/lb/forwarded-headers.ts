// The headers a request and a response carry across the balancer: hop-by-hop headers dropped
// (RFC 9110 7.6.1: the fixed set and whatever `Connection` names), `X-Forwarded-*` set. A client's
// own `X-Forwarded-Proto`/`-Host`/`-Port` are replaced, never believed; `X-Forwarded-For` is
// appended to, as proxies in a chain do.
import type { IncomingMessage } from 'node:http';
import type { UpstreamRequest } from './upstream-connection.js';

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
  // Node's server already answered `100 Continue` to the client itself.
  'expect',
]);

/** Written by the balancer (`X-Forwarded-For` with the client's own list in front). */
const FORWARDED = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
]);

/** `keep-alive` or `close`, the usual values, which name no header to drop. */
function isPlainConnection(value: string): boolean {
  const lower = value.length <= 10 ? value.toLowerCase() : '';
  return lower === 'keep-alive' || lower === 'close';
}

/** The names a `Connection` header value lists, added to `into`. */
function connectionListed(value: string, into = new Set<string>()): Set<string> {
  for (const part of value.split(',')) into.add(part.trim().toLowerCase());
  return into;
}

/** The client's address as written in `X-Forwarded-For` (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

/**
 * The request for the backend: the client's request line and headers in their order, without
 * hop-by-hop headers, those `Connection` names and the client's own `X-Forwarded-*`, then
 * `X-Forwarded-For/-Proto/-Host/-Port`. Node's parser has already refused whatever is malformed
 * (a CR or LF in a value, Content-Length with Transfer-Encoding), so the names and values are
 * written back as they came. A chunked body is chunked again by the balancer; a body with a
 * length keeps its `Content-Length`.
 */
export function upstreamRequest(
  req: IncomingMessage,
  client: { address: string; port: number },
): UpstreamRequest {
  const raw = req.rawHeaders;
  const lower: string[] = new Array<string>(raw.length >> 1);
  let listed: Set<string> | undefined;
  let host: string | undefined;
  let forwardedFor = '';
  let length = '';
  let isChunked = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    lower[i >> 1] = name;
    if (name === 'host') host ??= value;
    else if (name === 'content-length') length = value;
    else if (name === 'transfer-encoding') isChunked = true;
    else if (name === 'x-forwarded-for')
      forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
    else if (name === 'connection' && !isPlainConnection(value))
      listed = connectionListed(value, listed);
  }
  let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = lower[i >> 1] as string;
    if (HOP_BY_HOP.has(name) || FORWARDED.has(name) || listed?.has(name)) continue;
    if (name === 'host') {
      // Only the Host the route was chosen by: a second one could name another app to the backend.
      if (hasHost) continue;
      hasHost = true;
    }
    head += `${raw[i] as string}: ${raw[i + 1] as string}\r\n`;
  }
  if (isChunked) head += 'transfer-encoding: chunked\r\n';
  head +=
    `x-forwarded-for: ${forwardedFor ? `${forwardedFor}, ${client.address}` : client.address}\r\n` +
    `x-forwarded-proto: http\r\nx-forwarded-host: ${host ?? ''}\r\nx-forwarded-port: ${client.port}\r\n\r\n`;
  const hasBody = isChunked || (length !== '' && length !== '0');
  return { head, body: hasBody ? req : null, isChunked, isHead: req.method === 'HEAD' };
}

/**
 * Headers of the upstream response, for the client (name, value, name, value, … as the parser
 * gave them, latin1): a flat list for `writeHead`, repeated names (`Set-Cookie`) kept in order,
 * hop-by-hop ones and those `Connection` names dropped.
 */
export function downstreamRawHeaders(raw: string[]): string[] {
  let listed: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = raw[i + 1] as string;
    if (!isPlainConnection(value)) listed = connectionListed(value, listed);
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}
