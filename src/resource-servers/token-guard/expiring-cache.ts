/**
 * A bounded map whose entries expire: memory stays flat however many tokens or proofs pass by.
 * When full, expired entries go first, then the oldest insertions (Map order), a tenth of the bound
 * at once.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;
  /** What a full cache is brought down to. */
  readonly #afterEviction: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
    this.#afterEviction = maxEntries - Math.max(1, Math.floor(maxEntries / 10));
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

  clear(): void {
    this.#entries.clear();
  }

  /**
   * One pass for a tenth of the bound's inserts, not one per insert: a Map keeps a deleted entry's
   * slot until it is rehashed, so evicting the oldest one at a time made every insert into a full
   * cache walk past the slots of all the entries evicted before it.
   */
  #makeRoom(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    let excess = this.#entries.size - this.#afterEviction;
    if (excess <= 0) return;
    for (const key of this.#entries.keys()) {
      this.#entries.delete(key);
      if (--excess === 0) break;
    }
  }
}
