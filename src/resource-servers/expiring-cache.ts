/**
 * A bounded map whose entries expire: memory stays flat however many tokens or proofs pass by.
 * When full, expired entries go first, then the oldest insertion (Map order).
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;
  #lastSweep = 0;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live value, or undefined; `expired` tells a caller that it was there but ran out. */
  get(key: string, now = Date.now()): { value: V; expired: boolean } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return { value: entry.value, expired: true };
    }
    return { value: entry.value, expired: false };
  }

  has(key: string, now = Date.now()): boolean {
    const found = this.get(key, now);
    return found !== undefined && !found.expired;
  }

  /** Stores until `expiresAt` (epoch ms); an already-expired entry is not stored. */
  set(key: string, value: V, expiresAt: number, now = Date.now()): void {
    if (expiresAt <= now) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#makeRoom(now);
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** A full sweep at most once a second keeps inserts O(1) when the cache is full of live entries. */
  #makeRoom(now: number): void {
    if (now - this.#lastSweep >= 1000) {
      this.#lastSweep = now;
      for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
      if (this.#entries.size < this.#maxEntries) return;
    }
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}
