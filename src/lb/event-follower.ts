// Follows the master's `/v2/events` stream for as long as the balancer runs: reconnects with a
// backoff, resumes after the last event seen (`Last-Event-ID`), and says when it (re)connected,
// since events may have been missed meanwhile (the caller then re-reads a snapshot).
// Not operator/event-stream.ts: that one reads a stream once and ignores `id:` lines.
import { authHeaders, type MasterConnection } from './master-client.js';

export interface EventFollowerOptions {
  master: MasterConnection;
  /** Each event with its id (undefined when the master sent none). */
  onEvent(event: Record<string, unknown>, id: number | undefined): void;
  /** The stream is attached (first time or again): whatever was missed must be re-read. */
  onConnected(): void;
  onDisconnected(error: unknown): void;
  /** A stream silent this long is taken for dead (the master sends keep-alives every 15 s). */
  idleTimeoutMs?: number;
  /** Longest wait between attempts. */
  maxBackoffMs?: number;
}

export interface EventFollower {
  lastEventId(): number | undefined;
  isConnected(): boolean;
  /** Reconnections so far (status page, tests). */
  connects(): number;
  stop(): void;
}

/** A frame bigger than this is a broken stream: refused rather than buffered. */
const MAX_FRAME_CHARS = 16 * 1024 * 1024;

export function followEvents(options: EventFollowerOptions): EventFollower {
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  let lastId: number | undefined;
  let connected = false;
  let connects = 0;
  let stopped = false;
  let controller: AbortController | undefined;

  function handleFrame(frame: string): void {
    let data = '';
    let id: number | undefined;
    for (const line of frame.split('\n')) {
      if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).trimStart();
      else if (line.startsWith('id:') && /^\d+$/.test(line.slice(3).trim()))
        id = Number(line.slice(3).trim());
    }
    if (id !== undefined) lastId = id;
    if (!data) return;
    const event = JSON.parse(data) as unknown;
    if (typeof event === 'object' && event !== null && !Array.isArray(event))
      options.onEvent(event as Record<string, unknown>, id);
  }

  async function once(): Promise<void> {
    controller = new AbortController();
    const abort = controller;
    let idle = setTimeout(
      () => abort.abort(new Error('the event stream went silent')),
      idleTimeoutMs,
    );
    try {
      const response = await fetch(`${options.master.url}/v2/events`, {
        headers: {
          accept: 'text/event-stream',
          ...authHeaders(options.master),
          ...(lastId !== undefined ? { 'last-event-id': String(lastId) } : {}),
        },
        signal: abort.signal,
        ...(options.master.dispatcher ? { dispatcher: options.master.dispatcher } : {}),
      });
      if (!response.ok || !response.body) {
        const text = await response.text().catch(() => '');
        throw new Error(
          `the master answered ${response.status} to /v2/events: ${text.slice(0, 300)}`,
        );
      }
      connected = true;
      connects += 1;
      options.onConnected();
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        clearTimeout(idle);
        idle = setTimeout(
          () => abort.abort(new Error('the event stream went silent')),
          idleTimeoutMs,
        );
        buffered += decoder.decode(chunk, { stream: true }).replaceAll('\r\n', '\n');
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          handleFrame(frame);
        }
        if (buffered.length > MAX_FRAME_CHARS) throw new Error('an event frame is too big');
      }
      throw new Error('the master closed the event stream');
    } finally {
      clearTimeout(idle);
      connected = false;
    }
  }

  void (async () => {
    let backoffMs = 100;
    while (!stopped) {
      const started = Date.now();
      try {
        await once();
      } catch (error) {
        if (stopped) return;
        options.onDisconnected(error);
      }
      // A stream that lived a while starts the backoff over.
      if (Date.now() - started > 10_000) backoffMs = 100;
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    }
  })();

  return {
    lastEventId: () => lastId,
    isConnected: () => connected,
    connects: () => connects,
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
