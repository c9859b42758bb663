import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Store, StoreHealth } from './store.ts';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number; // epoch ms; Infinity when stored without a TTL
}

const SWEEP_INTERVAL_MS = 30_000;

/**
 * An unbounded in-memory store with TTL expiry. oidc-provider's own memory adapter is an LRU of
 * about a thousand entries that evicts live sessions under load; this one keeps every entry until
 * it expires, and sweeps expired entries so memory stays flat over long runs.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Entry>();
  readonly #grantIndex = new Map<string, Set<string>>();
  readonly #secondary = new Map<string, string>(); // "Model:uid:<uid>" / "Model:userCode:<code>" → key
  readonly #sweeper: NodeJS.Timeout;

  constructor() {
    this.#sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  /** oidc-provider's `adapter` option: one adapter per model name. */
  adapterFor(model: string): Adapter {
    const key = (id: string) => `${model}:${id}`;
    const read = (id: string) => this.#read(key(id));
    return {
      upsert: async (id, payload, expiresIn) => {
        const k = key(id);
        const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
        this.#entries.set(k, { payload: structuredClone(payload), expiresAt });
        if (payload.grantId) {
          let keys = this.#grantIndex.get(payload.grantId);
          if (!keys) this.#grantIndex.set(payload.grantId, (keys = new Set()));
          keys.add(k);
        }
        if (payload.uid) this.#secondary.set(`${model}:uid:${payload.uid}`, k);
        if (payload.userCode) this.#secondary.set(`${model}:userCode:${payload.userCode}`, k);
      },
      find: async (id) => read(id),
      findByUid: async (uid) => this.#readSecondary(`${model}:uid:${uid}`),
      findByUserCode: async (userCode) => this.#readSecondary(`${model}:userCode:${userCode}`),
      consume: async (id) => {
        const entry = this.#live(key(id));
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.#entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const k of this.#grantIndex.get(grantId) ?? []) this.#entries.delete(k);
        this.#grantIndex.delete(grantId);
      },
    };
  }

  async health(): Promise<StoreHealth> {
    return { ok: true, kind: this.kind, entries: this.#entries.size };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  /** Removes expired entries and index rows that point at nothing. */
  sweep(now = Date.now()): void {
    for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(k);
    for (const [grantId, keys] of this.#grantIndex) {
      for (const k of keys) if (!this.#entries.has(k)) keys.delete(k);
      if (keys.size === 0) this.#grantIndex.delete(grantId);
    }
    for (const [index, k] of this.#secondary) if (!this.#entries.has(k)) this.#secondary.delete(index);
  }

  #live(k: string): Entry | undefined {
    const entry = this.#entries.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(k);
      return undefined;
    }
    return entry;
  }

  #read(k: string): AdapterPayload | undefined {
    const entry = this.#live(k);
    return entry ? structuredClone(entry.payload) : undefined;
  }

  #readSecondary(index: string): AdapterPayload | undefined {
    const k = this.#secondary.get(index);
    return k ? this.#read(k) : undefined;
  }
}
