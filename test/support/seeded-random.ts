/**
 * A small seeded pseudo-random generator (xorshift32) for randomized tests: one seed gives the
 * same sequence on every machine, so a failing run is replayed by running it again with its seed.
 * Shifts and xors only: in Jest's vm context every lookup of a global (`Math`, `Number`) costs
 * about half a microsecond, and the generators call this hundreds of times per request.
 */

/** The seed of a randomized test: env `FUZZ_SEED` (decimal or 0x-hex), else `fallback`. */
export function fuzzSeed(fallback: number): number {
  const raw = process.env.FUZZ_SEED?.trim();
  if (!raw) return fallback >>> 0;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`FUZZ_SEED must be an integer from 0 to 4294967295 (or 0x-hex), got "${raw}"`);
  return seed;
}

export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    // xorshift never leaves 0.
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 4294967296;
  }

  /** An integer in [0, below) (below < 2^32). */
  below(below: number): number {
    return (this.next() * below) >>> 0;
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.below(items.length)];
  }

  /** The result of one of `choices`, chosen by weight. */
  weighted<T>(choices: ReadonlyArray<readonly [weight: number, make: () => T]>): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [weight, make] of choices) {
      roll -= weight;
      if (roll < 0) return make();
    }
    return choices[choices.length - 1][1]();
  }

  bytes(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = this.below(256);
    return bytes;
  }

  /** `length` characters drawn from `alphabet` (single-byte characters: U+0000 to U+00FF). */
  string(length: number, alphabet: string): string {
    const codes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) codes[i] = alphabet.charCodeAt(this.below(alphabet.length));
    return codes.toString('latin1');
  }
}
