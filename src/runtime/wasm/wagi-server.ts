// Handler mode (label PACER_WASM_HTTP: "wagi"): the agent listens on the task's port and runs a
// fresh instance of the module per HTTP request, with WAGI's CGI/1.1 convention: the body on
// stdin, the request in the environment, a CGI response on stdout. Each request has its own
// fuel, memory and time limits (the app's as a ceiling); one that fails gets a 5xx and harms
// no other request. Request size (headers, body) and requests in flight are bounded.
import http from 'node:http';
import type { RunOutcome } from './worker-messages.js';

/** Label that selects handler mode. */
export const WAGI_LABEL = 'PACER_WASM_HTTP';

/** Whether the app asks for handler mode (own property only: labels are user input). */
export function isWagiApp(labels: Record<string, string>): boolean {
  return Object.hasOwn(labels, WAGI_LABEL) && labels[WAGI_LABEL] === 'wagi';
}

/** How one request's instance ended. */
export interface InstanceResult {
  outcome: RunOutcome;
  /** Fuel the instance used (metered modules). */
  fuelUsed?: number;
  isOutOfFuel: boolean;
  isTimedOut: boolean;
  stdout: Uint8Array;
}

export interface WagiServer {
  close(): void;
}

/** Limits of handler mode (agent-wide defaults; labels may lower some per app). */
export interface WagiLimits {
  maxBodyBytes: number;
  maxHeaders: number;
  /** Bytes of CGI output (headers and body) kept; more fails the request (502). */
  maxResponseBytes: number;
  /** Requests running at once per task; more get 503 at once. */
  maxInFlight: number;
}

export const defaultWagiLimits: WagiLimits = {
  maxBodyBytes: 1024 * 1024,
  maxHeaders: 100,
  maxResponseBytes: 8 * 1024 * 1024,
  maxInFlight: 256,
};

/** Headers a CGI response may not set (hop-by-hop, or framing the server owns). */
const reservedHeaders = new Set([
  'connection',
  'transfer-encoding',
  'content-length',
  'keep-alive',
]);
/** Request headers not passed to the handler as HTTP_* (credentials, as CGI servers do). */
const hiddenHeaders = new Set(['authorization', 'proxy-authorization', 'connection']);

/** The CGI environment of a request (the app's env under it). */
export function cgiEnv(options: {
  request: http.IncomingMessage;
  bodyBytes: number;
  port: number;
  appEnv: Record<string, string>;
}): Record<string, string> {
  const { request } = options;
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const hostHeader = request.headers.host ?? `localhost:${options.port}`;
  const serverName = hostHeader.replace(/:\d+$/, '');
  const env: Record<string, string> = { ...options.appEnv };
  Object.assign(env, {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'pacer',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    REQUEST_METHOD: request.method ?? 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: path,
    X_RAW_PATH_INFO: path,
    X_MATCHED_ROUTE: '/...',
    QUERY_STRING: query < 0 ? '' : url.slice(query + 1),
    CONTENT_TYPE: request.headers['content-type'] ?? '',
    CONTENT_LENGTH: String(options.bodyBytes),
    SERVER_NAME: serverName,
    SERVER_PORT: String(options.port),
    REMOTE_ADDR: request.socket.remoteAddress ?? '',
    X_FULL_URL: `http://${hostHeader}${url}`,
  });
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    if (hiddenHeaders.has(name)) continue;
    const key = `HTTP_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const value = request.rawHeaders[i + 1] as string;
    env[key] = Object.hasOwn(env, key) && key.startsWith('HTTP_') ? `${env[key]}, ${value}` : value;
  }
  return env;
}

/** A parsed CGI response, or an error sentence. */
export function parseCgiResponse(
  output: Uint8Array,
): { status: number; headers: [string, string][]; body: Uint8Array } | { error: string } {
  const bytes = Buffer.from(output.buffer, output.byteOffset, output.length);
  let end = bytes.indexOf('\n\n');
  let sep = 2;
  const crlf = bytes.indexOf('\r\n\r\n');
  if (crlf >= 0 && (end < 0 || crlf < end)) {
    end = crlf;
    sep = 4;
  }
  if (end < 0) return { error: 'the handler wrote no blank line after its headers' };
  const headers: [string, string][] = [];
  let status: number | undefined;
  let hasLocation = false;
  for (const line of bytes.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: `bad header line ${JSON.stringify(line.slice(0, 80))}` };
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      return { error: `bad header ${JSON.stringify(name.slice(0, 80))}` };
    }
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const code = Number(value.split(' ')[0]);
      if (!Number.isInteger(code) || code < 100 || code > 599) {
        return { error: `bad Status ${JSON.stringify(value.slice(0, 80))}` };
      }
      status = code;
      continue;
    }
    if (lower === 'location') hasLocation = true;
    if (reservedHeaders.has(lower)) continue;
    headers.push([name, value]);
  }
  return {
    status: status ?? (hasLocation ? 302 : 200),
    headers,
    body: bytes.subarray(end + sep),
  };
}

/** Listens on `port` and answers each request from a fresh instance (`runInstance`). */
export async function createWagiServer(options: {
  port: number;
  bindHost?: string;
  appEnv: Record<string, string>;
  limits?: Partial<WagiLimits>;
  runInstance: (params: {
    stdin: Uint8Array;
    env: Record<string, string>;
    maxStdoutBytes: number;
  }) => Promise<InstanceResult>;
  onRequest?: (figures: { fuelUsed?: number; durationMs: number; status: number }) => void;
}): Promise<WagiServer> {
  const limits = { ...defaultWagiLimits, ...options.limits };
  let inFlight = 0;
  const answer = (
    response: http.ServerResponse,
    status: number,
    body: { text: string; headers?: Record<string, string> },
  ): void => {
    if (response.headersSent) return;
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...body.headers });
    response.end(`${body.text}\n`);
  };

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (request, response) => {
    const startedAt = performance.now();
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limits.maxBodyBytes) {
      answer(response, 413, { text: 'request body too large', headers: { connection: 'close' } });
      request.destroy();
      return;
    }
    if (inFlight >= limits.maxInFlight) {
      answer(response, 503, { text: 'too many requests in flight' });
      request.resume();
      return;
    }
    inFlight++;
    const chunks: Buffer[] = [];
    let size = 0;
    let isTooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) {
        isTooLarge = true;
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', () => undefined);
    const done = (status: number, fuelUsed?: number): void => {
      inFlight--;
      options.onRequest?.({ fuelUsed, durationMs: performance.now() - startedAt, status });
    };
    request.on('close', () => {
      if (isTooLarge) {
        answer(response, 413, { text: 'request body too large', headers: { connection: 'close' } });
        done(413);
      }
    });
    request.on('end', () => {
      if (isTooLarge) return;
      const body = Buffer.concat(chunks, size);
      const env = cgiEnv({ request, bodyBytes: size, port: options.port, appEnv: options.appEnv });
      options
        .runInstance({ stdin: body, env, maxStdoutBytes: limits.maxResponseBytes })
        .then((result) => {
          const fuelHeader: Record<string, string> =
            result.fuelUsed === undefined ? {} : { 'x-pacer-fuel-used': String(result.fuelUsed) };
          const failed = (status: number, sentence: string): void => {
            answer(response, status, { text: sentence, headers: fuelHeader });
            done(status, result.fuelUsed);
          };
          if (result.isTimedOut) return failed(504, 'the handler ran past its time limit');
          if (result.isOutOfFuel) return failed(503, 'the handler used its whole fuel budget');
          const { outcome } = result;
          if (outcome.kind === 'exit')
            return failed(502, `the handler exited with ${outcome.code}`);
          if (outcome.kind !== 'returned') {
            return failed(
              502,
              `the handler failed: ${outcome.kind === 'trap' ? outcome.message : outcome.kind}`,
            );
          }
          const parsed = parseCgiResponse(result.stdout);
          if ('error' in parsed) return failed(502, parsed.error);
          if (!response.headersSent) {
            response.statusCode = parsed.status;
            for (const [name, value] of parsed.headers) response.appendHeader(name, value);
            for (const [name, value] of Object.entries(fuelHeader)) response.setHeader(name, value);
            response.end(parsed.body);
          }
          done(parsed.status, result.fuelUsed);
        })
        .catch(() => {
          answer(response, 500, { text: 'the handler could not run' });
          done(500);
        });
    });
  });
  server.maxHeadersCount = limits.maxHeaders;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.bindHost ?? '0.0.0.0' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  return {
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
