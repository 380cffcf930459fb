/**
 * A map that never holds more than `max` entries: one detector instance
 * lives for a whole hunt or a sensor's lifetime, so every table it keeps must
 * stop growing somewhere. Past `max`, the least recently set or read entry
 * goes first (`onEvict` hears of it), and `evicted` counts how many went
 * (reported in `stats()`).
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  /**
   * Where eviction goes on from. Map order is insertion order and a touched key
   * is re-inserted at the end, so the entries ahead of this iterator are in
   * least-recently-seen order. A fresh `keys()` per eviction would walk past
   * every slot deleted since the table was last compacted: quadratic on a
   * capture of many hosts.
   */
  #cursor: Iterator<K> | undefined;
  readonly max: number;
  evicted = 0;

  constructor(max: number, onEvict?: (key: K, value: V) => void) {
    this.max = Math.max(1, Math.floor(max));
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, which now counts as just seen. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** The value, leaving its place in the eviction order alone. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.evictOldest();
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#cursor = undefined;
  }

  /** Entries, least recently seen first. */
  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }

  /** Drops the least recently seen entry (counted). */
  evictOldest(): void {
    if (this.#map.size === 0) return;
    for (;;) {
      this.#cursor ??= this.#map.keys();
      const next = this.#cursor.next();
      // Every live key is ahead of the cursor (it only ever passes keys it evicts), but a finished
      // iterator stays finished when keys are added later: then start a new one.
      if (next.done) {
        this.#cursor = undefined;
        continue;
      }
      // A live iterator never yields a deleted key: this one is here.
      const value = this.#map.get(next.value) as V;
      this.#map.delete(next.value);
      this.evicted++;
      this.#onEvict?.(next.value, value);
      return;
    }
  }
}

/**
 * A bounded memo for answers that never change (scores, verdicts): cheaper
 * than `LruMap` on hits, which is what a memo mostly sees. Entries live in
 * two generations of `max / 2`; when the young one fills, the old one goes
 * (counted in `evicted`) and the young one becomes old. A hit in the old
 * generation moves the entry to the young one, so what goes is what was not
 * seen during the last `max / 2` insertions: least recently seen first out.
 */
export class RecentCache<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #half: number;
  evicted = 0;

  constructor(max: number) {
    this.#half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    this.#young.set(key, value);
    if (this.#young.size >= this.#half) {
      this.evicted += this.#old.size;
      this.#old = this.#young;
      this.#young = new Map();
    }
  }
}
