// A Map kept as a bounded memory of the newest entries: the same few lines had been written
// again beside each such memory (launches and kills the master sent, inodes' exact times).
/**
 * Sets `[key, value]` as the newest entry of `map` (a Map keeps insertion order), then forgets the
 * oldest entries past `max`.
 */
export function setNewest<K, V>(map: Map<K, V>, [key, value]: [K, V], max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}
