// Per-request work of the edge remembered by method and path (the router's match, the metrics'
// recorder): a client polling the same paths then pays two Map lookups. Bounded, as paths are
// the client's to choose: a method's paths are all forgotten when one more would pass
// MAX_PATHS, and paths longer than MAX_PATH_LENGTH are never kept, so what is held stays small.

const MAX_PATHS = 4_096;
const MAX_PATH_LENGTH = 256;

export class PathMemo<V> {
  readonly #byMethod = new Map<string, Map<string, V>>();

  /** The value remembered for `method` and `path`; undefined when there is none. */
  get(method: string, path: string): V | undefined {
    return this.#byMethod.get(method)?.get(path);
  }

  /** Remembers `value` (unless the path is too long to keep); returns it. */
  remember(method: string, path: string, value: V): V {
    if (path.length > MAX_PATH_LENGTH) return value;
    let byPath = this.#byMethod.get(method);
    if (!byPath) this.#byMethod.set(method, (byPath = new Map<string, V>()));
    if (byPath.size >= MAX_PATHS) byPath.clear();
    byPath.set(path, value);
    return value;
  }

  clear(): void {
    this.#byMethod.clear();
  }
}
