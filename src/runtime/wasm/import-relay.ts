// One set of import functions per worker thread for handler-mode instances, each forwarding to
// the host of the instance whose turn is running. Why: a handler instance imports a pooled
// memory (memory-pool.ts), and V8's scavenger keeps every instance of a live memory alive (the
// memory's list of its instances is weak, and the young-generation collector treats weak
// references as strong), so whatever an instance references survives until a full collection.
// With per-request closures as imports, each request's whole WASI host was copied out of the
// young generation and promoted (measured: half of a request's CPU time went to the collector).
// With relays, an instance references only functions that live as long as the thread, and the
// request's host dies young.

type ImportFunction = (...args: never[]) => unknown;
/** An import object: module name → import name → function. */
export type ImportTable = Record<string, Record<string, ImportFunction>>;

export interface ImportRelay {
  /**
   * An import object with exactly the modules and names of `target` (so linking succeeds or fails
   * as with `target` itself), whose functions are this thread's relays.
   */
  importsFor(target: ImportTable): ImportTable;
  /**
   * Runs `fn` (a turn of one instance, or its instantiation) with relayed calls going to
   * `target`; restores the previous target afterwards, so a nested run cannot leave a stale one.
   * A relayed call outside any `run` throws: it never reaches another request's host.
   */
  run<T>(target: ImportTable, fn: () => T): T;
}

export function createImportRelay(): ImportRelay {
  let active: ImportTable | undefined;
  const relays = new Map<string, ImportFunction>();
  /**
   * The relays of one module's import object, by that object: a reused host (host-pool.ts)
   * brings the same object to every request, whose relays are then looked up once, not by
   * name each time (building the names' keys was 5 % of a request's CPU time).
   */
  const relaysOf = new WeakMap<object, Record<string, ImportFunction>>();

  const relayOf = (module: string, name: string): ImportFunction => {
    const key = `${module}\0${name}`;
    let relay = relays.get(key);
    if (!relay) {
      relay = (...args: never[]): unknown => {
        const fn = active?.[module]?.[name];
        if (!fn) throw new Error(`host call ${module}.${name} outside its instance's turn`);
        return fn(...args);
      };
      relays.set(key, relay);
    }
    return relay;
  };

  return {
    importsFor(target) {
      const imports: ImportTable = {};
      for (const module of Object.keys(target)) {
        const functions = target[module] as Record<string, ImportFunction>;
        let names = relaysOf.get(functions);
        if (!names) {
          names = {};
          for (const name of Object.keys(functions)) names[name] = relayOf(module, name);
          relaysOf.set(functions, names);
        }
        imports[module] = names;
      }
      return imports;
    },
    run(target, fn) {
      const previous = active;
      active = target;
      try {
        return fn();
      } finally {
        active = previous;
      }
    },
  };
}
