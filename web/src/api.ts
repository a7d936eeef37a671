// The UI's one way to reach the API: same origin, the signed-in token (sessionStorage) as a
// Bearer credential, errors carried with the API's own status and body (422 details included).

const TOKEN_KEY = 'pacer.token';

/** An answer other than 2xx, with Marathon's error body when there is one. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
  }
}

function messageOf(status: number, body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : `HTTP ${status}`;
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Headers of every API request: the token when signed in, and the mark of a script's request,
 * so a 401 comes without the Basic challenge (no browser login prompt; the page asks instead).
 */
export function authHeaders(): Record<string, string> {
  const secret = token();
  const mark = { 'X-Requested-With': 'XMLHttpRequest' };
  return secret ? { ...mark, Authorization: `Bearer ${secret}` } : mark;
}

/** Listeners told when the API asks for credentials (401). */
const unauthorized = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorized.add(listener);
  return () => unauthorized.delete(listener);
}

/** Calls the API; resolves with the JSON answer, rejects with ApiError. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) {
    parsed = JSON.parse(text) as unknown;
  }
  if (response.status === 401) for (const listener of unauthorized) listener();
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed as T;
}

/** `/v2/apps/a/b` for app id `/a/b` (ids are validated by the API: no escaping games). */
export function appPath(appId: string): string {
  return `/v2/apps/${appId.replace(/^\/+/, '')}`;
}

/**
 * Reads a server-sent event stream with the token (EventSource cannot send headers), calling
 * `onEvent` for each event until `signal` aborts. Resolves when the stream ends.
 */
export async function readEvents(
  path: string,
  options: { signal: AbortSignal; onEvent: (type: string, data: string) => void },
): Promise<void> {
  const response = await fetch(path, {
    headers: { Accept: 'text/event-stream', ...authHeaders() },
    signal: options.signal,
  });
  if (response.status === 401) for (const listener of unauthorized) listener();
  if (!response.ok || !response.body) throw new ApiError(response.status, null);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let type = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) options.onEvent(type, data.join('\n'));
        type = 'message';
        data = [];
      } else if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}
