/** An express-session store on Redis (connect-redis with node-redis) at REDIS_URL, for the session-store examples. */
import { RedisStore } from 'connect-redis';
import type { auth } from 'express-openid-connect';
import { createClient } from 'redis';
import type { ExampleSettings } from './settings.ts';

/** The store type `auth({ session: { store } })` takes (the library does not export it by name). */
type SessionStore = NonNullable<NonNullable<NonNullable<Parameters<typeof auth>[0]>['session']>['store']>;

export interface RedisSessionStore {
  store: SessionStore;
  close(): Promise<void>;
}

export async function redisSessionStore(settings: ExampleSettings): Promise<RedisSessionStore> {
  const client = createClient({ url: settings.redisUrl });
  client.on('error', (error: Error) => console.error(`Redis at ${settings.redisUrl}: ${error.message}`));
  await client.connect();
  // The library's session payloads carry `cookie: { expires, maxAge }`, not express-session's full
  // Cookie type; connect-redis reads only `cookie.expires` (for the key's TTL), so the store fits.
  const store = new RedisStore({ client, prefix: settings.redisPrefix }) as unknown as SessionStore;
  return { store, close: async () => client.destroy() };
}
