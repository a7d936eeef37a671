// The client that keeps using the cluster while faults hit it: each app slot in turn is created,
// scaled, updated (a restart) and deleted through the API. It remembers every write the API
// acknowledged (2xx) and, for writes whose answer never came or was a 5xx, that they may or may
// not have happened. The check then allows exactly those states: anything else is a lost write.
import type { ChaosCluster } from './chaos-cluster.js';

export interface AppState {
  exists: boolean;
  instances: number;
}

interface Slot {
  id: string;
  /** The state after the last acknowledged write (undefined: none yet, so absent). */
  acked: AppState;
  /** States of writes since then whose outcome is unknown (no answer, 5xx). */
  maybe: AppState[];
  version: number;
}

export interface WorkloadStats {
  acknowledged: number;
  unknown: number;
  refused: number;
  /** The last answers (status, or the error), newest last: for failure messages. */
  recent: string[];
}

export function createWorkload(options: {
  cluster: ChaosCluster;
  /** App ids are `/chaos/<prefix>-<n>`. */
  prefix: string;
  slots: number;
  fetchUri: string;
  maxInstances?: number;
  /** Seeded choice of operations, so a failing run can be replayed. */
  seed?: number;
}) {
  const { cluster, fetchUri } = options;
  const maxInstances = options.maxInstances ?? 2;
  const slots: Slot[] = Array.from({ length: options.slots }, (_, n) => ({
    id: `/chaos/${options.prefix}-${n}`,
    acked: { exists: false, instances: 0 },
    maybe: [],
    version: 0,
  }));
  const stats: WorkloadStats = { acknowledged: 0, unknown: 0, refused: 0, recent: [] };
  let seed = options.seed ?? 1;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let running = false;
  let loops: Promise<void>[] = [];

  function definition(slot: Slot, instances: number) {
    return {
      id: slot.id,
      instances,
      cpus: 0.05,
      mem: 16,
      fetch: [{ uri: fetchUri }],
      cmd: 'service.wasm 5000',
      env: { VERSION: String(slot.version) },
      labels: { PACER_WASM_TIMEOUT_SECONDS: '3600' },
    };
  }

  /** One write; records what it may have done. */
  async function write(
    slot: Slot,
    target: AppState,
    send: () => Promise<{ status: number; body?: unknown }>,
  ): Promise<void> {
    const status = await send().then(
      (res) => {
        stats.recent.push(`${res.status} ${JSON.stringify(res.body ?? '').slice(0, 100)}`);
        return res.status;
      },
      (error: unknown) => {
        stats.recent.push(String(error).slice(0, 100));
        return 0;
      },
    );
    stats.recent.splice(0, Math.max(0, stats.recent.length - 10));
    // A delete answered 404 found the app absent: that settles its state as well as a 2xx.
    const isSettled = (status >= 200 && status < 300) || (status === 404 && !target.exists);
    if (isSettled) {
      slot.acked = target;
      slot.maybe = [];
      stats.acknowledged++;
    } else if (status === 0 || status >= 500) {
      slot.maybe.push(target);
      stats.unknown++;
    } else {
      stats.refused++; // 4xx: refused, nothing changed
    }
  }

  async function step(slot: Slot): Promise<void> {
    const known = slot.maybe.length === 0;
    const exists = slot.acked.exists;
    const roll = random();
    if (!exists && known) {
      const n = 1 + Math.floor(random() * maxInstances);
      await write(slot, { exists: true, instances: n }, () =>
        cluster.call('POST', '/v2/apps', definition(slot, n)),
      );
    } else if (roll < 0.15 || !known) {
      // Delete (also how an unknown outcome is settled: the delete makes the state known).
      await write(slot, { exists: false, instances: 0 }, () =>
        cluster.call('DELETE', `/v2/apps${slot.id}?force=true`),
      );
    } else if (roll < 0.6) {
      const n = Math.floor(random() * (maxInstances + 1));
      await write(slot, { exists: true, instances: n }, () =>
        cluster.call('PUT', `/v2/apps${slot.id}?force=true`, { instances: n }),
      );
    } else {
      slot.version++;
      const n = slot.acked.instances;
      await write(slot, { exists: true, instances: n }, () =>
        cluster.call('PUT', `/v2/apps${slot.id}?force=true`, definition(slot, n)),
      );
    }
  }

  async function loop(slot: Slot): Promise<void> {
    while (running) {
      await step(slot);
      // Pacing, not waiting for a condition: a client that writes a few times a second per app.
      await new Promise((resolve) => setTimeout(resolve, 150 + random() * 350));
    }
  }

  return {
    stats,
    slots,
    start() {
      if (running) return;
      running = true;
      loops = slots.map(loop);
    },
    /** Stops and waits for writes in flight. */
    async stop() {
      running = false;
      await Promise.all(loops);
    },
    /** The states each app may be in now. */
    allowed(slot: Slot): AppState[] {
      return [slot.acked, ...slot.maybe];
    },
  };
}

export type Workload = ReturnType<typeof createWorkload>;
