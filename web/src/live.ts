// Live updates: one `/v2/events` stream for the page; every event bumps a revision that the
// views' loaders depend on, so what is shown is re-read when something changed. Only a figure
// that moves without an event (a running task's fuel) is also re-read on a timer. A dropped
// stream reconnects (after a pause, longer each time it fails at once).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, readEvents } from './api.js';

type Listener = (revision: number) => void;
type EventListener = (type: string, data: string) => void;
const eventListeners = new Set<EventListener>();
const listeners = new Set<Listener>();
let revision = 0;
let connected = false;
let pending: ReturnType<typeof setTimeout> | undefined;
let controller: AbortController | undefined;

/** Many events in a burst (a deployment) make one re-read. */
function bump(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = undefined;
    revision++;
    for (const listener of listeners) listener(revision);
  }, 150);
}

const stateListeners = new Set<(isConnected: boolean) => void>();
function setConnected(value: boolean): void {
  connected = value;
  for (const listener of stateListeners) listener(value);
}

/** Starts (or restarts, after sign-in) the page's event stream. */
export function startLive(): void {
  controller?.abort();
  const own = new AbortController();
  controller = own;
  let pauseMs = 500;
  const loop = async () => {
    while (!own.signal.aborted) {
      try {
        await readEvents('/v2/events', {
          signal: own.signal,
          onEvent: (type, data) => {
            if (!connected) setConnected(true);
            for (const listener of eventListeners) listener(type, data);
            pauseMs = 500;
            // The stream's opening event: re-read whatever may have changed while away.
            if (type !== 'keep-alive') bump();
          },
        });
      } catch (error) {
        // Not signed in: the sign-in restarts the stream (startLive), no retry meanwhile.
        if (error instanceof ApiError && error.status === 401) {
          setConnected(false);
          return;
        }
      }
      setConnected(false);
      if (own.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, 10_000);
    }
  };
  void loop();
}

/** True while the event stream is open. */
export function useConnected(): boolean {
  const [value, setValue] = useState(connected);
  useEffect(() => {
    stateListeners.add(setValue);
    return () => void stateListeners.delete(setValue);
  }, []);
  return value;
}

/**
 * Loads with `load` now and again after each change the event stream reports, and every
 * `everyMs` if given; `deps` restart it (another app, another page). Errors are kept for the
 * view to show.
 */
export function useLive<T>(
  load: () => Promise<T>,
  deps: unknown[],
  everyMs?: number,
): { data?: T; error?: Error; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: Error }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const listener: Listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    const timer = everyMs ? setInterval(listener, everyMs) : undefined;
    return () => {
      listeners.delete(listener);
      clearInterval(timer);
    };
  }, [everyMs]);
  useEffect(() => {
    let isCurrent = true;
    load().then(
      (data) => isCurrent && setState({ data }),
      (error: unknown) => isCurrent && setState((old) => ({ ...old, error: error as Error })),
    );
    return () => {
      isCurrent = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

/**
 * The latest `max` events of one type seen on the stream since the view mounted (e.g. the
 * `agent_drained_event`s the agents page announces). Data that is not JSON is skipped.
 */
export function useEventsOf<T>(type: string, max = 5): T[] {
  const [events, setEvents] = useState<T[]>([]);
  useEffect(() => {
    const listener: EventListener = (eventType, data) => {
      if (eventType !== type) return;
      let event: T;
      try {
        event = JSON.parse(data) as T;
      } catch {
        return;
      }
      setEvents((old) => [...old, event].slice(-max));
    };
    eventListeners.add(listener);
    return () => void eventListeners.delete(listener);
  }, [type, max]);
  return events;
}
