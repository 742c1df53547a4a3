/**
 * A map that keeps at most `capacity` entries, forgetting the least recently used first. Reading
 * (get) and writing (set) both count as use.
 */

/** A least-recently-used map with a fixed capacity. */
export class BoundedLru<K, V> {
  readonly capacity: number;
  // A Map iterates in insertion order; re-inserting on use keeps the oldest use first.
  readonly #map = new Map<K, V>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value for `key` (marking it used), or undefined. */
  get(key: K): V | undefined {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key) as V;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Whether `key` is held, without marking it used. */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Stores `value` as the most recently used, forgetting the least recently used if full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }
}
