import type { Adapter, AdapterPayload } from 'oidc-provider';
import { realNow } from '../clock.ts';
import {
  DEFAULT_NAMESPACE,
  EXPIRED_RECORD_GRACE_SECONDS,
  GRANTABLE_MODELS,
  type LocalRevisions,
  REMOVAL_COUNTING_MODELS,
  type Store,
  type StoreHealth,
} from './store.ts';

/**
 * A stored payload is kept as its JSON text: one string per entry instead of an object graph, so
 * a store holding tens of thousands of live tokens is a fraction of the heap for the garbage
 * collector to trace and to keep, and every read is a fresh copy (payloads are JSON by the adapter
 * contract; the Redis store keeps the same text).
 */
interface Entry {
  json: string;
  // Real epoch ms (Infinity: no TTL). A TTL is a duration: kept against real time, a record lives as long
  // as asked whatever clock offset the issuer storing it has (src/clock.ts), and one sweeper serves all.
  expiresAt: number;
  consumed?: number;
}

const SWEEP_INTERVAL_MS = 30_000;

/** The maps every namespace of one MemoryStore shares; keys start with the namespace. */
export class MemoryState {
  readonly entries = new Map<string, Entry>();
  readonly grantIndex = new Map<string, Set<string>>();
  readonly secondary = new Map<string, string>(); // "<ns> uid:Model:<uid>" / "<ns> userCode:Model:<code>" → key
  readonly documents = new Map<string, string>();
  readonly fieldSets = new Map<string, Map<string, string>>();
  readonly revisions = { removals: 0, fieldSets: 0 };

  live(k: string): Entry | undefined {
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt <= realNow()) {
      this.entries.delete(k);
      return undefined;
    }
    return entry;
  }

  read(k: string): AdapterPayload | undefined {
    const entry = this.live(k);
    if (!entry) return undefined;
    const payload = JSON.parse(entry.json) as AdapterPayload;
    if (entry.consumed !== undefined) payload.consumed = entry.consumed;
    return payload;
  }

  /** Removes expired entries and index rows that point at nothing. */
  sweep(now: number): void {
    for (const [k, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(k);
    for (const [grantKey, keys] of this.grantIndex) {
      for (const k of keys) if (!this.entries.has(k)) keys.delete(k);
      if (keys.size === 0) this.grantIndex.delete(grantKey);
    }
    for (const [index, k] of this.secondary) if (!this.entries.has(k)) this.secondary.delete(index);
  }
}

/** One namespace of a MemoryStore (see `MemoryStore.namespace()`). */
export class MemoryNamespace implements Store {
  readonly kind: string = 'memory';
  readonly #state: MemoryState;
  readonly #ns: string;

  constructor(state: MemoryState, namespace: string) {
    this.#state = state;
    this.#ns = namespace;
  }

  /** This process is the only writer: every change goes through the methods below. */
  get localRevisions(): LocalRevisions {
    return this.#state.revisions;
  }

  namespace(name: string): Store {
    return new MemoryNamespace(this.#state, name);
  }

  /** oidc-provider's `adapter` option: one adapter per model name. */
  adapterFor(model: string): Adapter {
    const state = this.#state;
    const at = (name: string) => `${this.#ns}\u0000${name}`;
    const key = (id: string) => at(`${model}:${id}`);
    const readSecondary = (index: string) => {
      const k = state.secondary.get(at(index));
      return k ? state.read(k) : undefined;
    };
    return {
      upsert: async (id, payload, expiresIn) => {
        const k = key(id);
        const expiresAt = expiresIn ? realNow() + (expiresIn + EXPIRED_RECORD_GRACE_SECONDS) * 1000 : Infinity;
        state.entries.set(k, { json: JSON.stringify(payload), expiresAt });
        if (payload.grantId && GRANTABLE_MODELS.has(model)) {
          const grantKey = at(`grant:${payload.grantId}`);
          let keys = state.grantIndex.get(grantKey);
          if (!keys) state.grantIndex.set(grantKey, (keys = new Set()));
          keys.add(k);
        }
        if (payload.uid && model === 'Session') state.secondary.set(at(`uid:${model}:${payload.uid}`), k);
        if (payload.userCode) state.secondary.set(at(`userCode:${model}:${payload.userCode}`), k);
        if (REMOVAL_COUNTING_MODELS.has(model)) state.revisions.removals += 1;
      },
      find: async (id) => state.read(key(id)),
      findByUid: async (uid) => {
        const payload = readSecondary(`uid:${model}:${uid}`);
        return payload?.uid === uid ? payload : undefined;
      },
      findByUserCode: async (userCode) => readSecondary(`userCode:${model}:${userCode}`),
      consume: async (id) => {
        const entry = state.live(key(id));
        // A protocol timestamp (oidc-provider's own adapters use its epochTime()): on the issuer's clock.
        if (entry) entry.consumed = Math.floor(Date.now() / 1000);
        state.revisions.removals += 1;
      },
      destroy: async (id) => {
        state.entries.delete(key(id));
        state.revisions.removals += 1;
      },
      revokeByGrantId: async (grantId) => {
        state.revisions.removals += 1;
        const grantKey = at(`grant:${grantId}`);
        for (const k of state.grantIndex.get(grantKey) ?? []) state.entries.delete(k);
        state.grantIndex.delete(grantKey);
      },
    };
  }

  async get(name: string): Promise<string | undefined> {
    return this.#state.documents.get(this.#document(name));
  }

  async putIfAbsent(name: string, value: string): Promise<string> {
    const k = this.#document(name);
    const existing = this.#state.documents.get(k);
    if (existing !== undefined) return existing;
    this.#state.documents.set(k, value);
    return value;
  }

  async readFields(name: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#state.fieldSets.get(this.#document(name)) ?? []);
  }

  async writeFields(name: string, fields: Record<string, string>): Promise<Record<string, string>> {
    const k = this.#document(name);
    let set = this.#state.fieldSets.get(k);
    if (!set) this.#state.fieldSets.set(k, (set = new Map()));
    for (const [field, value] of Object.entries(fields)) set.set(field, value);
    this.#state.revisions.fieldSets += 1;
    return Object.fromEntries(set);
  }

  async deleteFields(name: string, fields: readonly string[]): Promise<void> {
    const k = this.#document(name);
    const set = this.#state.fieldSets.get(k);
    if (!set) return;
    for (const field of fields) set.delete(field);
    if (set.size === 0) this.#state.fieldSets.delete(k);
    this.#state.revisions.fieldSets += 1;
  }

  async incrementField(name: string, field: string, by = 1): Promise<number> {
    const k = this.#document(name);
    let set = this.#state.fieldSets.get(k);
    if (!set) this.#state.fieldSets.set(k, (set = new Map()));
    const sum = Number(set.get(field) ?? 0) + by;
    set.set(field, String(sum));
    this.#state.revisions.fieldSets += 1;
    return sum;
  }

  async listRecords(model: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
    const prefix = `${this.#ns}\u0000${model}:`;
    const records: Array<{ id: string; payload: AdapterPayload }> = [];
    for (const k of [...this.#state.entries.keys()]) {
      if (!k.startsWith(prefix)) continue;
      const payload = this.#state.read(k);
      if (payload) records.push({ id: k.slice(prefix.length), payload });
    }
    return records;
  }

  async health(): Promise<StoreHealth> {
    return { ok: true, kind: this.kind, entries: this.#state.entries.size };
  }

  async close(): Promise<void> {}

  #document(name: string): string {
    return `${this.#ns}\u0000state:${name}`;
  }
}

/**
 * An unbounded in-memory store with TTL expiry. oidc-provider's own memory adapter is an LRU of
 * about a thousand entries that evicts live sessions under load; this one keeps every entry until
 * it expires, and sweeps expired entries so memory stays flat over long runs.
 */
export class MemoryStore extends MemoryNamespace {
  readonly #state: MemoryState;
  readonly #sweeper: NodeJS.Timeout;

  constructor() {
    const state = new MemoryState();
    super(state, DEFAULT_NAMESPACE);
    this.#state = state;
    this.#sweeper = setInterval(() => state.sweep(realNow()), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  override async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  /** Removes expired entries and index rows that point at nothing (every namespace). */
  sweep(now = realNow()): void {
    this.#state.sweep(now);
  }
}
