// The worker's view of a task's sockets (socket mode): what the agent's main thread delivered
// (connections, bytes, ends) and what the guest did (sends, reads, shutdowns, closes), queued
// as `NetOp`s. The real sockets live on the main thread (net-host.ts); both sides bound what
// is in flight per connection by `netWindowBytes`, so neither a flood nor a peer that never
// reads grows a buffer without limit.
import { netWindowBytes, type NetEvent, type NetOp } from '../worker-messages.js';

interface Conn {
  chunks: Uint8Array[];
  /** Bytes of `chunks` not read yet. */
  available: number;
  isEof: boolean;
  isError: boolean;
  /** Sent by the guest and not yet handed to the kernel by the host. */
  inFlight: number;
  /** Read by the guest and not yet acknowledged to the host. */
  unacked: number;
  isWriteShut: boolean;
  isAccepted: boolean;
}

/** Acknowledge reads in steps this large (see `NetMirror.read`). */
const ACK_STEP_BYTES = netWindowBytes / 4;
/** Queued send bytes past which ops are posted without waiting for the end of the turn. */
const FLUSH_BYTES = 64 * 1024;

export interface NetMirror {
  readonly listenerCount: number;
  /** Applies the host's events, in order. Returns true when something became ready. */
  apply(events: NetEvent[]): boolean;
  /** Whether `listener` has a connection waiting. */
  hasPending(listener: number): boolean;
  /** Takes the oldest waiting connection of `listener` (its id), or undefined. */
  accept(listener: number): number | undefined;
  /** Bytes readable now. */
  readable(id: number): number;
  /** The peer finished sending (reads past the data return 0). */
  isEof(id: number): boolean;
  /** Copies readable bytes into `targets` (at most their size); `isPeek` leaves them. */
  read(id: number, targets: Uint8Array[], isPeek: boolean): number;
  /** Bytes the guest may send now (window left); -1 when it cannot send any more (EPIPE). */
  writable(id: number): number;
  /** Queues up to `max` bytes of `chunks` to send (copied); returns how many. */
  send(id: number, chunks: Uint8Array[], max: number): number;
  shutdown(id: number, how: number): void;
  /** Forgets the connection and asks the host to close it. Idempotent. */
  close(id: number): void;
  /** Drops a listener's waiting connections (its fd was closed). */
  closeListener(listener: number): void;
  /** Posts the queued ops (one message). */
  flush(): void;
}

/** A mirror for `listenerCount` listeners; `post` carries ops to the host. */
export function createNetMirror(options: {
  listenerCount: number;
  post: (ops: NetOp[]) => void;
  /** Called when the first op of a batch is queued (resident tasks flush at the end of a turn). */
  onQueued?: () => void;
}): NetMirror {
  const conns = new Map<number, Conn>();
  const pending: number[][] = Array.from({ length: options.listenerCount }, () => []);
  const closedListeners = new Set<number>();
  let ops: NetOp[] = [];
  let queuedBytes = 0;

  const queue = (op: NetOp): void => {
    if (ops.push(op) === 1) options.onQueued?.();
    if (op.t === 'send') {
      queuedBytes += op.bytes.length;
      if (queuedBytes >= FLUSH_BYTES) mirror.flush();
    }
  };
  const conn = (id: number): Conn | undefined => conns.get(id);

  const mirror: NetMirror = {
    listenerCount: options.listenerCount,
    apply(events) {
      let isReady = false;
      for (const event of events) {
        switch (event.t) {
          case 'conn': {
            const queueOf = pending[event.listener];
            if (!queueOf || closedListeners.has(event.listener)) {
              ops.push({ t: 'close', id: event.id });
              continue;
            }
            conns.set(event.id, {
              chunks: [],
              available: 0,
              isEof: false,
              isError: false,
              inFlight: 0,
              unacked: 0,
              isWriteShut: false,
              isAccepted: false,
            });
            queueOf.push(event.id);
            isReady = true;
            break;
          }
          case 'data': {
            const c = conn(event.id);
            if (!c) continue;
            c.chunks.push(event.bytes);
            c.available += event.bytes.length;
            isReady = true;
            break;
          }
          case 'end': {
            const c = conn(event.id);
            if (!c) continue;
            c.isEof = true;
            c.isError ||= event.isError === true;
            isReady = true;
            break;
          }
          case 'sent': {
            const c = conn(event.id);
            if (!c) continue;
            c.inFlight = Math.max(0, c.inFlight - event.bytes);
            isReady = true;
            break;
          }
          default: {
            const never: never = event;
            throw new Error(`unknown net event ${JSON.stringify(never)}`);
          }
        }
      }
      if (ops.length > 0) options.onQueued?.();
      return isReady;
    },
    hasPending: (listener) => (pending[listener]?.length ?? 0) > 0,
    accept(listener) {
      const id = pending[listener]?.shift();
      const c = id === undefined ? undefined : conn(id);
      if (c) c.isAccepted = true;
      return id;
    },
    readable: (id) => conn(id)?.available ?? 0,
    isEof: (id) => conn(id)?.isEof ?? true,
    read(id, targets, isPeek) {
      const c = conn(id);
      if (!c) return 0;
      let total = 0;
      let chunkIndex = 0;
      let offset = 0;
      for (const target of targets) {
        let at = 0;
        while (at < target.length && chunkIndex < c.chunks.length) {
          const chunk = c.chunks[chunkIndex] as Uint8Array;
          const n = Math.min(target.length - at, chunk.length - offset);
          target.set(chunk.subarray(offset, offset + n), at);
          at += n;
          offset += n;
          if (offset === chunk.length) {
            chunkIndex++;
            offset = 0;
          }
        }
        total += at;
        if (at < target.length) break;
      }
      if (isPeek || total === 0) return total;
      c.chunks.splice(0, chunkIndex);
      if (offset > 0 && c.chunks[0]) c.chunks[0] = c.chunks[0].subarray(offset);
      c.available -= total;
      c.unacked += total;
      // Acknowledged in steps: the host pauses reading at a whole window, so an ack at a
      // quarter of it always comes before the guest could run dry (no deadlock, few messages).
      if (c.unacked >= ACK_STEP_BYTES) {
        queue({ t: 'read', id, bytes: c.unacked });
        c.unacked = 0;
      }
      return total;
    },
    writable(id) {
      const c = conn(id);
      if (!c || c.isWriteShut || c.isError) return -1;
      return Math.max(0, netWindowBytes - c.inFlight);
    },
    send(id, chunks, max) {
      const c = conn(id);
      if (!c) return 0;
      let left = Math.min(max, netWindowBytes - c.inFlight);
      let total = 0;
      const parts: Uint8Array[] = [];
      for (const chunk of chunks) {
        if (left <= 0) break;
        const part = chunk.subarray(0, left);
        parts.push(part);
        total += part.length;
        left -= part.length;
      }
      if (total === 0) return 0;
      // One copy out of guest memory: the guest may overwrite its buffer once the call returns.
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
      c.inFlight += total;
      queue({ t: 'send', id, bytes });
      return total;
    },
    shutdown(id, how) {
      const c = conn(id);
      if (!c) return;
      if (how & 2) c.isWriteShut = true;
      if (how & 1) {
        // Reads see end of file from now on; what was delivered is dropped (and acknowledged).
        c.unacked += c.available;
        c.chunks = [];
        c.available = 0;
        c.isEof = true;
      }
      queue({ t: 'shutdown', id, how });
    },
    close(id) {
      if (!conns.delete(id)) return;
      queue({ t: 'close', id });
    },
    closeListener(listener) {
      closedListeners.add(listener);
      for (const id of pending[listener] ?? []) mirror.close(id);
      if (pending[listener]) pending[listener] = [];
    },
    flush() {
      if (ops.length === 0) return;
      const batch = ops;
      ops = [];
      queuedBytes = 0;
      options.post(batch);
    },
  };
  return mirror;
}
