// Ports of this host that another process holds. The agent offers its whole port range; when
// something else (a stray server, another agent on the same host) listens on one, every task
// placed there fails on EADDRINUSE and the master places the next one on the same free-looking
// port, again and again. After a task with ports fails, its ports are probed: one still in use
// leaves the offers for a while, then is offered (and probed) again.
import net from 'node:net';
import type { Clock } from '../lib/index.js';

export interface TakenPorts {
  /** Probes `ports`; those another process holds leave the offers for a while. Returns them. */
  check(ports: readonly number[]): Promise<number[]>;
  /** The ports held elsewhere now, to leave out of offers. */
  list(): number[];
}

/** How long a port found held stays out of the offers before it is tried again. */
export const TAKEN_PORT_HOLD_MS = 60_000;
/**
 * A port found in use is probed once more this much later: the failed task's own listener (or
 * its port forwarder) may still be closing, and it must not cost the agent its port.
 */
const RECHECK_MS = 250;

export function createTakenPorts(options: { clock: Clock; recheckMs?: number }): TakenPorts {
  const { clock } = options;
  const recheckMs = options.recheckMs ?? RECHECK_MS;
  /** Port → when it may be offered again (clock ms). */
  const until = new Map<number, number>();

  /** True when binding the port (on every address, as tasks' ports are) fails: it is in use. */
  function isInUse(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
      server.listen({ port, host: '0.0.0.0', exclusive: true }, () =>
        server.close(() => resolve(false)),
      );
    });
  }

  async function stillInUse(ports: readonly number[]): Promise<number[]> {
    const answers = await Promise.all(ports.map(isInUse));
    return ports.filter((_, i) => answers[i]);
  }

  return {
    async check(ports) {
      const suspects = await stillInUse(ports);
      if (suspects.length === 0) return [];
      await new Promise((resolve) => setTimeout(resolve, recheckMs));
      const taken = await stillInUse(suspects);
      for (const port of taken) until.set(port, clock.now() + TAKEN_PORT_HOLD_MS);
      return taken;
    },

    list() {
      const now = clock.now();
      for (const [port, expiresAt] of until) if (expiresAt <= now) until.delete(port);
      return [...until.keys()];
    },
  };
}
