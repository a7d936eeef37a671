// A small TCP proxy that sits between one process and a server (an agent and Redis, a master and
// Postgres) and makes the link flaky on request: cut (every connection reset, new ones refused
// until restored), blackhole (connections stay open, bytes are held back: a silent partition),
// delay (each chunk forwarded late) and reset (every open connection reset once). A blackhole
// holds bytes rather than dropping them, as TCP would retransmit them after a partition heals.
import net from 'node:net';

export type LinkMode = 'pass' | 'cut' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** `host:port` of the proxy, for URLs. */
  readonly address: string;
  /** The link's current mode. */
  mode(): LinkMode;
  /** Resets every open connection and refuses new ones until `restore`. */
  cut(): void;
  /** Keeps connections open but forwards nothing (either way) until `restore`: a partition. */
  blackhole(): void;
  /** Forwards again (connections cut before stay cut; held bytes are dropped with them). */
  restore(): void;
  /** Forwards each chunk `ms` late (0: at once), in order. */
  delay(ms: number): void;
  /** Resets every open connection once; new ones are accepted. */
  resetAll(): void;
  /** Connections accepted so far (a reconnect shows as a new one). */
  accepted(): number;
  close(): Promise<void>;
}

export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let linkMode: LinkMode = 'pass';
  let delayMs = 0;
  let acceptedCount = 0;
  /** Resolves when a blackhole ends; chunks wait on it in order. */
  let healed: Promise<void> = Promise.resolve();
  let heal: () => void = () => undefined;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  function destroyAll(): void {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  }

  /** Forwards `from` → `to`, honouring the mode and delay at the moment each chunk arrives. */
  function pipe(from: net.Socket, to: net.Socket): void {
    // Chunks go out in arrival order even when the delay changes in between.
    let last = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const wait = delayMs;
      last = last
        .then(() => healed)
        .then(
          () =>
            new Promise<void>((resolve) => {
              const send = () => {
                if (!to.destroyed) to.write(chunk);
                resolve();
              };
              if (wait > 0) setTimeout(send, wait);
              else send();
            }),
        );
    });
  }

  const server = net.createServer((client) => {
    if (linkMode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    acceptedCount++;
    const upstream = net.connect(target);
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    address: `127.0.0.1:${port}`,
    mode: () => linkMode,
    cut() {
      if (linkMode === 'blackhole') heal();
      linkMode = 'cut';
      destroyAll();
    },
    blackhole() {
      if (linkMode === 'blackhole') return;
      linkMode = 'blackhole';
      healed = new Promise((resolve) => (heal = resolve));
    },
    restore() {
      if (linkMode === 'blackhole') heal();
      linkMode = 'pass';
    },
    delay(ms) {
      delayMs = Math.max(0, ms);
    },
    resetAll() {
      destroyAll();
    },
    accepted: () => acceptedCount,
    async close() {
      heal();
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
