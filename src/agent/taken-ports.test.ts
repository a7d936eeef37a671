// Probing the ports of a failed task with real sockets: one another process holds leaves the
// offers until its hold passes; one free, or held only while the task's own listener closed, not.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTakenPorts, TAKEN_PORT_HOLD_MS } from './taken-ports.js';

const servers: net.Server[] = [];

/** A server on a free port (all addresses), as another process's would be. */
async function listening(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '0.0.0.0' }, resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

describe('taken ports', () => {
  it('keeps out of the offers a port held elsewhere, until its hold has passed', async () => {
    let now = 1_000;
    const taken = createTakenPorts({ clock: { now: () => now }, recheckMs: 10 });
    const held = await listening();
    const free = await listening();
    free.server.close();
    await new Promise((resolve) => free.server.once('close', resolve));

    expect(await taken.check([held.port, free.port])).toEqual([held.port]);
    expect(taken.list()).toEqual([held.port]);
    now += TAKEN_PORT_HOLD_MS - 1;
    expect(taken.list()).toEqual([held.port]);
    now += 1;
    expect(taken.list()).toEqual([]);
  });

  it('does not take a port whose listener closes before the second probe', async () => {
    const taken = createTakenPorts({ clock: { now: () => 0 }, recheckMs: 200 });
    const closing = await listening();
    // The failed task's own listener, still closing when the first probe runs.
    setTimeout(() => closing.server.close(), 50);
    expect(await taken.check([closing.port])).toEqual([]);
    expect(taken.list()).toEqual([]);
  });
});
