// The main-thread half of socket mode against real sockets, with the worker played by the test
// (following the same protocol): a peer that never reads stalls the guest at one window, and a
// flood of connections is cut at the task's limit.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait-for.js';
import { createNetHost, type NetHost } from './net-host.js';
import { netWindowBytes, type NetEvent } from './worker-messages.js';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

describe('net host', () => {
  it('holds at most one window for a peer that never reads, and delivers it all once read', async () => {
    const port = await freePort();
    // eslint-disable-next-line prefer-const -- assigned once the host exists; `pump` reads it
    let host: NetHost | undefined;
    let conn: number | undefined;
    let inFlight = 0;
    let sentTotal = 0;
    let isStalled = false;
    let maxBuffered = 0;
    const chunk = new Uint8Array(64 * 1024).fill(7);
    // The guest: sends 64 KiB whenever its window has room, as sock_send does.
    const pump = (): void => {
      if (!host || conn === undefined) return;
      while (inFlight + chunk.length <= netWindowBytes) {
        host.handle([{ t: 'send', id: conn, bytes: chunk }]);
        inFlight += chunk.length;
        sentTotal += chunk.length;
        maxBuffered = Math.max(maxBuffered, host.bufferedBytes);
      }
      isStalled = true;
    };
    host = await createNetHost({
      ports: [port],
      bindHost: '127.0.0.1',
      deliver: (events: NetEvent[]) => {
        for (const event of events) {
          if (event.t === 'conn') conn = event.id;
          if (event.t === 'sent') {
            inFlight -= event.bytes;
            isStalled = false;
          }
        }
        pump();
      },
    });
    cleanup.push(() => host?.close());
    const client = net.connect({ port, host: '127.0.0.1' });
    client.pause();
    cleanup.push(() => client.destroy());
    await waitFor(
      'the guest stalls on a full window',
      () => isStalled && sentTotal > 4 * netWindowBytes,
    );
    expect(host.bufferedBytes).toBeLessThanOrEqual(netWindowBytes);
    expect(maxBuffered).toBeLessThanOrEqual(netWindowBytes);
    // Everything sent arrives once the peer reads.
    let received = 0;
    client.on('data', (data: Buffer) => (received += data.length));
    client.resume();
    const target = sentTotal;
    await waitFor('all bytes read', () => received >= target);
  });

  it('refuses connections past the task limit at once', async () => {
    const port = await freePort();
    const host = await createNetHost({
      ports: [port],
      bindHost: '127.0.0.1',
      maxConnections: 5,
      deliver: () => undefined,
    });
    cleanup.push(() => host.close());
    const closed: number[] = [];
    const sockets = Array.from({ length: 40 }, (_, i) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      socket.on('close', () => closed.push(i));
      return socket;
    });
    cleanup.push(() => sockets.forEach((s) => s.destroy()));
    await waitFor('the extra connections closed', () => closed.length >= 35);
    expect(host.connectionCount).toBe(5);
  });

  it('refuses to start when a port is taken, leaving none bound', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => taken.close());
    const free = await freePort();
    const takenPort = (taken.address() as net.AddressInfo).port;
    await expect(
      createNetHost({ ports: [free, takenPort], bindHost: '127.0.0.1', deliver: () => undefined }),
    ).rejects.toThrow(/EADDRINUSE/);
    const again = await createNetHost({
      ports: [free],
      bindHost: '127.0.0.1',
      deliver: () => undefined,
    });
    again.close();
  });
});
