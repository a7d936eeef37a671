// Fencing: a store whose every write commits only while its master still leads. Each write runs
// in a transaction that first checks, and locks, the leader lease in the master's term; a master
// that was paused past its lease (SIGSTOP, a long GC, a partition) and wakes with writes in
// flight has them refused, whatever its own clock and timers believe.
import type { Store } from './store.js';

/** The lease a master writes under. */
export interface Fence {
  name: string;
  holder: string;
  term: number;
}

/** A write refused because the master no longer holds its lease in its term. */
export class FencedError extends Error {
  constructor(fence: Fence | undefined) {
    super(
      fence
        ? `${fence.holder} no longer leads in term ${fence.term}: the write is refused`
        : 'This master does not lead: the write is refused',
    );
  }
}

/** Postgres' division_by_zero, the failure of `leases.requireHeld`, as either driver reports it. */
function isDivisionByZero(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return e?.code === '22012' || e?.cause?.code === '22012';
}

/** Methods that change state, by repository. Leases are left out: they are how one leads. */
type RepositoryName = Exclude<keyof Store, 'transaction' | 'writeTogether' | 'close'>;
const WRITES: { [K in RepositoryName]?: readonly string[] } = {
  apps: ['put', 'putMany', 'delete', 'setLastTaskFailure'],
  instances: ['put', 'putMany', 'delete', 'deleteMany'],
  agents: ['put', 'delete', 'setDrain'],
  deployments: ['put', 'putMany', 'delete', 'deleteMany'],
  events: ['append', 'appendMany'],
  rolePolicies: ['put'],
  groups: ['put'],
};

/**
 * `store` with its state writes fenced by `fence()` (undefined: not leading, every write
 * refused). Reads go straight through. `transaction` checks once, at its start, for all its writes.
 */
export function createFencedStore(store: Store, fence: () => Fence | undefined): Store {
  async function underLease<T>(write: (inside: Store) => Promise<T>): Promise<T> {
    return store.transaction(async (tx) => {
      const current = fence();
      if (!current) throw new FencedError(current);
      // The check and the write go out together (one round trip fewer on a network driver,
      // which pipelines them in this order); a failed check throws, so nothing written commits.
      const [held, result] = await Promise.all([tx.leases.holds(current), write(tx)]);
      if (!held) throw new FencedError(current);
      return result;
    });
  }
  type Methods = Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
  const fenced = { ...store } as Record<string, unknown>;
  for (const [name, methods] of Object.entries(WRITES) as [RepositoryName, readonly string[]][]) {
    const wrapped: Methods = { ...(store[name] as unknown as Methods) };
    for (const method of methods) {
      wrapped[method] = (...args: unknown[]) =>
        underLease((tx) => {
          const write = (tx[name] as unknown as Methods)[method];
          if (!write) throw new Error(`The store has no ${name}.${method}`);
          return write(...args);
        });
    }
    fenced[name] = wrapped;
  }
  fenced.transaction = <T>(fn: (inside: Store) => Promise<T>) => underLease(fn);
  // The lease check goes first among the statements and fails in the database when the lease is
  // not held: COMMIT is sent before any answer comes, so only an aborted transaction stops it.
  fenced.writeTogether = async (statements: ((inside: Store) => Promise<unknown>)[]) => {
    const current = fence();
    if (!current) throw new FencedError(current);
    const check = (tx: Store) =>
      tx.leases.requireHeld(current).catch((error: unknown) => {
        throw isDivisionByZero(error) ? new FencedError(current) : error;
      });
    await store.writeTogether([check, ...statements]);
  };
  return fenced as unknown as Store;
}
