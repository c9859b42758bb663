/**
 * The Redis store: oidc-provider's adapter for every model and the testbed's own documents, on
 * ioredis, for several testbed replicas behind one issuer.
 *
 * Key layout (`prefix` defaults to `oidc-testbed:`; the issuer URL is the namespace):
 *
 *   <prefix>{<issuer>}:<Model>:<id>             a record: JSON, `SET … EX <expiresIn + grace>`
 *   <prefix>{<issuer>}:idx:grant:<grantId>      SET of the record keys of a grant's tokens
 *   <prefix>{<issuer>}:idx:uid:<Model>:<uid>    → id (Session), same TTL as the record
 *   <prefix>{<issuer>}:idx:userCode:<Model>:<code>  → id (DeviceCode), same TTL as the record
 *   <prefix>{<issuer>}:state:<name>             testbed documents (keys, user-claim changes)
 *
 * The `{<issuer>}` hash tag puts one issuer's keys in one Redis Cluster slot, so that every
 * operation is one round trip and atomic (MULTI or a Lua script) on a single server, behind
 * Sentinel and on a Cluster alike. Records cannot be tagged by grant: `find(id)` knows only the id.
 * Different issuers (and prefixes) spread over the cluster's slots.
 */
import type { ChainableCommander, Cluster, Redis, RedisOptions } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Logger } from '../log.ts';
import { parseRedisUrl, type RedisTarget, type RedisTopology } from './redis-url.ts';
import { DEFAULT_NAMESPACE, EXPIRED_RECORD_GRACE_SECONDS, GRANTABLE_MODELS, type Store, type StoreHealth } from './store.ts';
import { StoreStartupError, StoreUnavailableError } from './store-unavailable.ts';

export const DEFAULT_REDIS_PREFIX = 'oidc-testbed:';

export interface RedisStoreOptions {
  /** A Redis URL: `redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://` (see redis-url.ts). */
  url: string;
  /** Prepended to every key. Default `oidc-testbed:`. Testbeds with the same prefix and issuer are replicas. */
  prefix?: string;
  /** At start-up, wait until Redis answers instead of failing at once. */
  waitForConnection?: boolean;
  /** Delete every key under the prefix on `close()` (throw-away prefixes in tests). */
  purgeOnClose?: boolean;
}

/** How often a lost connection is retried: recovery within this long of Redis coming back. */
const RECONNECT_EVERY_MS = 150;

/** ioredis by default queues commands and retries for ~10 s while Redis is down; fail at once instead. */
const FAIL_FAST: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 500,
  commandTimeout: 1000,
  // How long a closing socket may linger (ioredis: 2 s, which holds a failed start-up's process open).
  disconnectTimeout: 200,
  // The first attempt at once: commands in flight when the connection dropped wait for it
  // (maxRetriesPerRequest 1: resent if it succeeds, as after a failover), and fail (503) within
  // milliseconds of a refused one, instead of after RECONNECT_EVERY_MS.
  retryStrategy: (attempt) => (attempt === 1 ? 0 : RECONNECT_EVERY_MS),
  // After a failover the old primary answers READONLY: reconnect (Sentinel finds the new one) and resend.
  reconnectOnError: (error) => (/^READONLY/.test(error.message) ? 2 : false),
};

/** EXPIRE NX/GT and SET NX GET: Redis 7.0. */
const MINIMUM_VERSION = [7, 0] as const;

/**
 * consume: marks a record consumed, keeping its TTL, and never re-creates one that has expired.
 * The epoch is appended to the stored JSON as text (a later duplicate key wins in JSON.parse)
 * rather than round-tripped through Redis's cjson, which turns `[]` into `{}` and rounds numbers.
 */
const CONSUME = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
value = string.gsub(value, ',"consumed":%d+}$', '}')
if value == '{}' then
  value = '{"consumed":' .. ARGV[1] .. '}'
else
  value = string.sub(value, 1, -2) .. ',"consumed":' .. ARGV[1] .. '}'
end
redis.call('SET', KEYS[1], value, 'KEEPTTL')
return 1`;

/** findByUid / findByUserCode: index → id → record in one round trip (same hash tag, same slot). */
const FIND_VIA_INDEX = `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('GET', ARGV[1] .. id)`;

/** revokeByGrantId: every record in the grant's index, then the index, atomically. */
const REVOKE_GRANT = `
local keys = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(keys) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
return #keys`;

interface Scripts {
  oidcConsume(key: string, epoch: number): Promise<number>;
  oidcFindViaIndex(index: string, recordPrefix: string): Promise<string | null>;
  oidcRevokeGrant(index: string): Promise<number>;
}

type Client = (Redis | Cluster) & Scripts;

/** Replies that mean "not now" rather than a bug in a command. */
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|CLUSTERDOWN|READONLY|TRYAGAIN|NOREPLICAS|BUSY|MISCONF)\b/;
const CONNECTION_FAILURE =
  /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|None of startup nodes|Failed to refresh slots|Cluster isn't ready|All sentinels are unreachable|Too many Cluster redirections/;

/** The one connection a RedisStore and its namespace views share. */
export class RedisConnection {
  readonly target: RedisTarget;
  readonly prefix: string;
  readonly client: Client;
  readonly #logger: Logger | undefined;
  #lastError: Error | undefined;
  // Down until the first 'ready': start() reports a failed start-up itself.
  #down = true;
  #wasReady = false;
  #closing = false;

  constructor(target: RedisTarget, prefix: string, logger?: Logger) {
    this.target = target;
    this.prefix = prefix;
    this.#logger = logger;
    const client = target.connect(FAIL_FAST);
    client.defineCommand('oidcConsume', { numberOfKeys: 1, lua: CONSUME });
    client.defineCommand('oidcFindViaIndex', { numberOfKeys: 1, lua: FIND_VIA_INDEX });
    client.defineCommand('oidcRevokeGrant', { numberOfKeys: 1, lua: REVOKE_GRANT });
    this.client = client as Client;
    // Without an 'error' listener ioredis prints every failed reconnect; log state changes once each.
    client.on('error', (error: Error) => {
      this.#lastError = error;
      this.#markDown(error.message);
    });
    client.on('close', () => this.#markDown('connection closed'));
    client.on('ready', () => {
      if (this.#wasReady) this.#logger?.info({ store: this.target.display }, 'store: Redis is reachable again');
      this.#down = false;
      this.#wasReady = true;
    });
  }

  get status(): string {
    return this.client.status;
  }

  get topology(): RedisTopology {
    return this.target.topology;
  }

  /**
   * Connects, or fails with one message naming the URL (without its password). With `wait`,
   * retries until Redis answers. Then checks that the server is Redis 7.0 or later.
   */
  async start(wait: boolean): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      if (!wait) {
        this.#closing = true;
        this.client.disconnect();
        const reason = this.#lastError?.message ?? (error as Error).message;
        throw new StoreStartupError(
          `cannot reach Redis at ${this.target.display} (${reason}): start it, fix the URL (--redis, REDIS_URL or the fixture's redis.url), or pass --wait-for-redis`,
          { cause: error },
        );
      }
      this.#logger?.warn({ store: this.target.display }, 'store: waiting for Redis');
      await new Promise<void>((resolve) => this.client.once('ready', () => resolve()));
    }
    const info = await this.run((client) => client.info('server'));
    const [major = 0, minor = 0] = (/redis_version:(\d+)\.(\d+)/.exec(info) ?? []).slice(1).map(Number);
    if (major < MINIMUM_VERSION[0] || (major === MINIMUM_VERSION[0] && minor < MINIMUM_VERSION[1])) {
      await this.close(false);
      throw new StoreStartupError(
        `Redis at ${this.target.display} is version ${major}.${minor}: the testbed needs Redis ${MINIMUM_VERSION.join('.')} or later`,
      );
    }
  }

  /** Runs commands; a connection failure becomes StoreUnavailableError (503), anything else stays. */
  async run<T>(commands: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await commands(this.client);
    } catch (error) {
      if (this.#unavailable(error))
        throw new StoreUnavailableError(`Redis ${this.target.display}: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }

  /** One MULTI … EXEC; a failed command inside it fails the whole call. */
  async transaction(build: (multi: ChainableCommander) => unknown): Promise<unknown[]> {
    return this.run(async (client) => {
      const multi = client.multi();
      build(multi);
      const results = (await multi.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
      return results.map(([, value]) => value);
    });
  }

  async close(purge: boolean): Promise<void> {
    if (purge && this.client.status === 'ready') await this.#purge();
    this.#closing = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  #unavailable(error: unknown): boolean {
    if (!(error instanceof Error)) return false;
    if (error.name === 'ReplyError') return UNAVAILABLE_REPLY.test(error.message);
    return (
      this.client.status !== 'ready' ||
      CONNECTION_FAILURE.test(error.message) ||
      error.name === 'MaxRetriesPerRequestError' ||
      error.name === 'ClusterAllFailedError'
    );
  }

  #markDown(reason: string): void {
    if (this.#down || this.#closing) return;
    this.#down = true;
    this.#logger?.warn({ store: this.target.display, reason }, 'store: Redis is unreachable; requests answer 503 until it is back');
  }

  /** The keys matching a SCAN pattern, on every primary of a cluster. */
  async scan(match: string): Promise<string[]> {
    const found: string[] = [];
    await this.run(() =>
      Promise.all(
        this.#primaries().map(async (server) => {
          for await (const keys of server.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) found.push(...keys);
        }),
      ),
    );
    return found;
  }

  #primaries(): Redis[] {
    return this.topology === 'cluster' ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }

  /** Deletes every key under the prefix (SCAN, on every primary of a cluster). */
  async #purge(): Promise<void> {
    const match = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    await Promise.all(
      this.#primaries().map(async (server) => {
        for await (const keys of server.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) {
          if (keys.length === 0) continue;
          // One UNLINK per key: on a cluster node, several keys of different slots in one command fail.
          const pipeline = server.pipeline();
          for (const key of keys) pipeline.unlink(key);
          await pipeline.exec();
        }
      }),
    );
  }
}

/** One namespace (issuer) of a RedisStore; see `RedisStore.namespace()`. */
export class RedisNamespace implements Store {
  readonly kind: string = 'redis';
  readonly #connection: RedisConnection;
  readonly #base: string;

  constructor(connection: RedisConnection, namespace: string) {
    this.#connection = connection;
    // Braces inside the namespace would end the hash tag early.
    this.#base = `${connection.prefix}{${namespace.replace(/[{}]/g, encodeURIComponent)}}:`;
  }

  namespace(name: string): Store {
    return new RedisNamespace(this.#connection, name);
  }

  adapterFor(model: string): Adapter {
    const redis = this.#connection;
    const base = this.#base;
    const recordPrefix = `${base}${model}:`;
    const key = (id: string) => `${recordPrefix}${id}`;
    const index = (kind: 'uid' | 'userCode', value: string) => `${base}idx:${kind}:${model}:${value}`;
    const grantIndex = (grantId: string) => `${base}idx:grant:${grantId}`;
    const parse = (value: string | null) => (value === null ? undefined : (JSON.parse(value) as AdapterPayload));

    return {
      async upsert(id, payload, expiresIn) {
        const k = key(id);
        const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) + EXPIRED_RECORD_GRACE_SECONDS : undefined;
        const set = (target: string, value: string, multi: ChainableCommander) => {
          if (ttl) multi.set(target, value, 'EX', ttl);
          else multi.set(target, value);
        };
        await redis.transaction((multi) => {
          set(k, JSON.stringify(payload), multi);
          if (payload.grantId && GRANTABLE_MODELS.has(model)) {
            const grant = grantIndex(payload.grantId);
            multi.sadd(grant, k);
            // The index lives as long as its longest-lived token: NX sets a TTL on a new index, GT only extends it.
            if (ttl) multi.expire(grant, ttl, 'NX').expire(grant, ttl, 'GT');
          }
          if (payload.uid && model === 'Session') set(index('uid', payload.uid), id, multi);
          if (payload.userCode) set(index('userCode', payload.userCode), id, multi);
        });
      },
      async find(id) {
        return parse(await redis.run((client) => client.get(key(id))));
      },
      async findByUid(uid) {
        const payload = parse(await redis.run((client) => client.oidcFindViaIndex(index('uid', uid), recordPrefix)));
        return payload?.uid === uid ? payload : undefined;
      },
      async findByUserCode(userCode) {
        return parse(await redis.run((client) => client.oidcFindViaIndex(index('userCode', userCode), recordPrefix)));
      },
      async consume(id) {
        await redis.run((client) => client.oidcConsume(key(id), Math.floor(Date.now() / 1000)));
      },
      async destroy(id) {
        await redis.run((client) => client.del(key(id)));
      },
      async revokeByGrantId(grantId) {
        await redis.run((client) => client.oidcRevokeGrant(grantIndex(grantId)));
      },
    };
  }

  async get(name: string): Promise<string | undefined> {
    return (await this.#connection.run((client) => client.get(this.#document(name)))) ?? undefined;
  }

  async putIfAbsent(name: string, value: string): Promise<string> {
    const previous = await this.#connection.run((client) => client.set(this.#document(name), value, 'NX', 'GET'));
    return previous ?? value;
  }

  async readFields(name: string): Promise<Record<string, string>> {
    return this.#connection.run((client) => client.hgetall(this.#document(name)));
  }

  async writeFields(name: string, fields: Record<string, string>): Promise<Record<string, string>> {
    const k = this.#document(name);
    if (Object.keys(fields).length === 0) return this.readFields(name);
    const results = await this.#connection.transaction((multi) => multi.hset(k, fields).hgetall(k));
    return results[1] as Record<string, string>;
  }

  async deleteFields(name: string, fields: readonly string[]): Promise<void> {
    if (fields.length === 0) return;
    // Redis deletes a hash with its last field.
    await this.#connection.run((client) => client.hdel(this.#document(name), ...fields));
  }

  async incrementField(name: string, field: string, by = 1): Promise<number> {
    return this.#connection.run((client) => client.hincrby(this.#document(name), field, by));
  }

  async listRecords(model: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
    const prefix = `${this.#base}${model}:`;
    const keys = await this.#connection.scan(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    if (keys.length === 0) return [];
    // One GET per key (a namespace is one hash slot, but MGET of many keys may still be refused by a proxy).
    const values = await this.#connection.run((client) => Promise.all(keys.map((key) => client.get(key))));
    return keys.flatMap((key, index) => {
      const value = values[index];
      return value === null ? [] : [{ id: key.slice(prefix.length), payload: JSON.parse(value) as AdapterPayload }];
    });
  }

  async health(): Promise<StoreHealth> {
    const { status, target } = this.#connection;
    try {
      await this.#connection.run((client) => client.ping());
      return { ok: true, kind: this.kind, status, target: target.display };
    } catch (error) {
      return { ok: false, kind: this.kind, status: this.#connection.status, target: target.display, error: (error as Error).message };
    }
  }

  async close(): Promise<void> {}

  #document(name: string): string {
    return `${this.#base}state:${name}`;
  }
}

/** The root of a Redis store: owns the connection; `namespace()` gives each issuer its view. */
export class RedisStore extends RedisNamespace {
  readonly #connection: RedisConnection;
  readonly #purgeOnClose: boolean;

  private constructor(connection: RedisConnection, purgeOnClose: boolean) {
    super(connection, DEFAULT_NAMESPACE);
    this.#connection = connection;
    this.#purgeOnClose = purgeOnClose;
  }

  /** Connects (or waits, with `waitForConnection`) and checks the server; see RedisStoreOptions. */
  static async open(options: RedisStoreOptions, logger?: Logger): Promise<RedisStore> {
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (/[{}]/.test(prefix))
      throw new StoreStartupError(`the Redis key prefix "${prefix}" must not contain { or }: the testbed places its own hash tag after it`);
    let target: RedisTarget;
    try {
      target = parseRedisUrl(options.url);
    } catch (error) {
      throw new StoreStartupError((error as Error).message, { cause: error });
    }
    const connection = new RedisConnection(target, prefix, logger);
    await connection.start(options.waitForConnection ?? false);
    logger?.info({ store: target.display, topology: target.topology, prefix }, 'store: connected to Redis');
    return new RedisStore(connection, options.purgeOnClose ?? false);
  }

  get topology(): RedisTopology {
    return this.#connection.topology;
  }

  override async close(): Promise<void> {
    await this.#connection.close(this.#purgeOnClose);
  }
}
