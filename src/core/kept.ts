/**
 * Bounded memos: values kept by key in a Map, which keeps insertion order, so its first entry is the
 * oldest. What the router (matched paths), the REST Operation writer (the JSON of Anys), the metadata codec
 * (final metadata) and the SQLite store (filtered-list statements) keep.
 */

/** Sets `key` in `map`, first dropping the oldest entry when `key` is new and the map already holds `max`. */
export function keepBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

/** Bytes as a string, one character a byte: a Map key for what is kept by a message's bytes. */
export function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
