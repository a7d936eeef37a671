// Server-sent events from the master, read by the operator CLI: Marathon's event stream
// (`GET /v2/events`) and followed task logs. Each `data:` is one JSON value.
import type { OperatorSettings } from './settings.js';
import { ApiRefusal, refusalMessage } from './client.js';

export interface StreamEvent {
  eventType: string;
  [key: string]: unknown;
}

/**
 * Opens `pathAndQuery` as an event stream; resolves once the master answered (so nothing it
 * sends after that is missed), with the parsed data as an async iterable. `signal` ends it.
 */
export async function openServerSentEvents(
  settings: OperatorSettings,
  pathAndQuery: string,
  signal?: AbortSignal,
): Promise<AsyncIterable<unknown>> {
  const response = await fetch(`${settings.url}${pathAndQuery}`, {
    headers: {
      accept: 'text/event-stream',
      ...(settings.token ? { authorization: `Bearer ${settings.token}` } : {}),
    },
    ...(signal ? { signal } : {}),
    ...(settings.dispatcher ? { dispatcher: settings.dispatcher } : {}),
  });
  if (!response.ok || !response.body) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the text is the message
    }
    throw new ApiRefusal(refusalMessage(response.status, body), response.status);
  }
  return parse(response.body);
}

/** Marathon's event stream, only `types`. */
export async function openEvents(
  settings: OperatorSettings,
  options: { types: string[]; signal: AbortSignal },
): Promise<AsyncIterable<StreamEvent>> {
  const query = options.types.map((t) => `event_type=${encodeURIComponent(t)}`).join('&');
  return (await openServerSentEvents(
    settings,
    `/v2/events?${query}`,
    options.signal,
  )) as AsyncIterable<StreamEvent>;
}

async function* parse(body: ReadableStream<Uint8Array>): AsyncIterable<unknown> {
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of body) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (data) yield JSON.parse(data) as unknown;
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
}
