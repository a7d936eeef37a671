// Socket mode, main-thread side: binds a task's host ports (net.Server) and relays its
// connections to the task's worker as `NetEvent`s, carrying out the `NetOp`s the guest sends
// back. Both directions are bounded per connection by `netWindowBytes` (a peer that floods, or
// one that never reads, holds at most a window in memory), and the connections a task holds by
// `maxConnections` (more are refused at once: a million connects cost a million closes).
import net from 'node:net';
import { netWindowBytes, type NetEvent, type NetOp } from './worker-messages.js';

/** The sockets of one task. */
export interface NetHost {
  /** Carries out the guest's ops (sends, acknowledgements, shutdowns, closes), in order. */
  handle(ops: NetOp[]): void;
  /** Closes the listeners and every connection. Idempotent. */
  close(): void;
  /** Connections open now. */
  readonly connectionCount: number;
  /** Bytes the host holds for the guest's connections: sends not yet taken by the kernel. */
  readonly bufferedBytes: number;
}

interface Conn {
  socket: net.Socket;
  /** Delivered to the worker and not yet acknowledged as read. */
  unacked: number;
  isPaused: boolean;
  isReadShut: boolean;
  isEnded: boolean;
}

/** Connections one task holds at most (accepted or waiting to be). */
export const defaultMaxConnections = 1000;

/** Binds every port (rejects if one cannot be bound, closing the others) and relays traffic. */
export async function createNetHost(options: {
  ports: number[];
  /** Address to bind (the agent's; 0.0.0.0 by default). */
  bindHost?: string;
  /** Posts events to the task's worker; called at most once per turn of the event loop. */
  deliver: (events: NetEvent[]) => void;
  maxConnections?: number;
}): Promise<NetHost> {
  const maxConnections = options.maxConnections ?? defaultMaxConnections;
  const conns = new Map<number, Conn>();
  let nextId = 1;
  let events: NetEvent[] = [];
  const sent = new Map<number, number>();
  let isClosed = false;

  const flush = (): void => {
    for (const [id, bytes] of sent) events.push({ t: 'sent', id, bytes });
    sent.clear();
    if (events.length === 0 || isClosed) return;
    const batch = events;
    events = [];
    options.deliver(batch);
  };
  let isScheduled = false;
  const schedule = (): void => {
    if (isScheduled) return;
    isScheduled = true;
    setImmediate(() => {
      isScheduled = false;
      flush();
    });
  };
  const emit = (event: NetEvent): void => {
    events.push(event);
    schedule();
  };

  const accept = (listener: number, socket: net.Socket): void => {
    if (isClosed || conns.size >= maxConnections) {
      socket.destroy();
      return;
    }
    const id = nextId++;
    const conn: Conn = { socket, unacked: 0, isPaused: false, isReadShut: false, isEnded: false };
    conns.set(id, conn);
    socket.setNoDelay(true);
    emit({ t: 'conn', listener, id });
    socket.on('data', (chunk: Buffer) => {
      if (conn.isReadShut) return;
      // A tight copy: a view would make postMessage clone the whole (pooled) ArrayBuffer.
      emit({ t: 'data', id, bytes: new Uint8Array(chunk) });
      conn.unacked += chunk.length;
      if (conn.unacked >= netWindowBytes && !conn.isPaused) {
        conn.isPaused = true;
        socket.pause();
      }
    });
    const ended = (isError: boolean): void => {
      if (conn.isEnded) return;
      conn.isEnded = true;
      if (conns.has(id)) emit({ t: 'end', id, isError });
    };
    socket.on('end', () => ended(false));
    socket.on('error', () => ended(true));
    socket.on('close', () => {
      ended(true);
      conns.delete(id);
    });
  };

  const servers: net.Server[] = [];
  try {
    for (const [listener, port] of options.ports.entries()) {
      // allowHalfOpen: a peer that finished sending still gets the answer.
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
      server.on('connection', (socket) => accept(listener, socket));
      server.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: options.bindHost ?? '0.0.0.0', backlog: 511 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }

  const closeConn = (id: number, conn: Conn): void => {
    conns.delete(id);
    // Graceful: what the guest sent is flushed first; a peer that never reads is cut off.
    conn.socket.end();
    conn.socket.setTimeout(10_000, () => conn.socket.destroy());
    if (conn.isPaused) conn.socket.resume();
  };

  return {
    handle(ops) {
      for (const op of ops) {
        const conn = conns.get(op.id);
        if (!conn) continue;
        switch (op.t) {
          case 'send': {
            const n = op.bytes.length;
            conn.socket.write(op.bytes, () => {
              sent.set(op.id, (sent.get(op.id) ?? 0) + n);
              schedule();
            });
            break;
          }
          case 'read':
            conn.unacked = Math.max(0, conn.unacked - op.bytes);
            if (conn.isPaused && conn.unacked < netWindowBytes) {
              conn.isPaused = false;
              conn.socket.resume();
            }
            break;
          case 'shutdown':
            if (op.how & 2 && !conn.socket.writableEnded) conn.socket.end();
            if (op.how & 1) {
              conn.isReadShut = true;
              if (conn.isPaused) {
                conn.isPaused = false;
                conn.socket.resume();
              }
            }
            break;
          case 'close':
            closeConn(op.id, conn);
            break;
          default: {
            const never: never = op;
            throw new Error(`unknown net op ${JSON.stringify(never)}`);
          }
        }
      }
    },
    close() {
      if (isClosed) return;
      isClosed = true;
      for (const server of servers) server.close();
      for (const conn of conns.values()) conn.socket.destroy();
      conns.clear();
    },
    get connectionCount() {
      return conns.size;
    },
    get bufferedBytes() {
      let n = 0;
      for (const conn of conns.values()) n += conn.socket.writableLength;
      return n;
    },
  };
}
