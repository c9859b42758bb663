import type { Fixture } from '../fixtures/schema.ts';
import type { Logger } from '../log.ts';
import { MemoryStore } from './memory-store.ts';
import type { RedisStoreOptions } from './redis-store.ts';
import type { Store } from './store.ts';
import { StoreStartupError } from './store-unavailable.ts';

export interface StoreChoice {
  /** A store opened by the caller (and closed by the caller). */
  store?: Store;
  /**
   * Redis by URL or options; options without `url` apply to the fixture's Redis. `false` keeps
   * state in memory whatever the fixture says.
   */
  redis?: string | Partial<RedisStoreOptions> | false;
}

export interface OpenedStore {
  store: Store;
  /** Whether the testbed opened it, and so closes it on stop. */
  owned: boolean;
}

/** The store a testbed uses: the caller's, else Redis from the options or the fixture, else memory. */
export async function openStore(choice: StoreChoice, fixture: Pick<Fixture, 'redis'>, logger: Logger): Promise<OpenedStore> {
  if (choice.store) return { store: choice.store, owned: false };
  if (choice.redis === false) return { store: new MemoryStore(), owned: true };
  const options = typeof choice.redis === 'string' ? { url: choice.redis } : (choice.redis ?? {});
  const url = options.url ?? fixture.redis?.url;
  if (!url) {
    if (Object.keys(options).length > 0)
      throw new StoreStartupError(
        'Redis options were given without a Redis URL: pass --redis URL, set REDIS_URL, or add redis.url to the fixture',
      );
    return { store: new MemoryStore(), owned: true };
  }
  // Loaded only when Redis is used: it is not needed to start a memory-backed testbed.
  const { RedisStore } = await import('./redis-store.ts');
  return { store: await RedisStore.open({ ...options, url, prefix: options.prefix ?? fixture.redis?.prefix }, logger), owned: true };
}
