/**
 * The Store contract, run against MemoryStore and RedisStore alike: oidc-provider's adapter
 * (TTLs, consume, secondary lookups, revocation by grant, records without TTL), namespaces, and
 * the testbed's documents. Redis-only checks read the keys with a raw client.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';
import type { FixtureUser } from '../../src/fixtures/schema.ts';
import { MemoryStore, RedisStore, type Store } from '../../src/index.ts';
import { EXPIRED_RECORD_GRACE_SECONDS } from '../../src/store/store.ts';
import { UserDirectory } from '../../src/store/user-directory.ts';
import { requireRedis, testRedisUrl, uniquePrefix } from '../support/store.ts';

const redisUp = await requireRedis();
const epoch = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Factory = () => Promise<Store>;
const stores: Array<[string, Factory]> = [['memory', async () => new MemoryStore()]];
if (redisUp) stores.push(['redis', () => RedisStore.open({ url: testRedisUrl(), prefix: uniquePrefix('contract'), purgeOnClose: true })]);

describe.each(stores)('%s store', (_kind, open) => {
  let root: Store;
  let store: Store;
  beforeAll(async () => {
    root = await open();
    store = root.namespace('http://localhost:9400');
  });
  afterAll(async () => {
    await root.close();
  });

  it(
    "finds what it stored; keeps it EXPIRED_RECORD_GRACE_SECONDS past its TTL (for the engine's expired_token), then nothing",
    async () => {
      const codes = store.adapterFor('AuthorizationCode');
      await codes.upsert('code-1', { jti: 'code-1', kind: 'AuthorizationCode', exp: epoch() + 1 } as AdapterPayload, 1);
      expect(await codes.find('code-1')).toMatchObject({ jti: 'code-1', kind: 'AuthorizationCode' });
      expect(await codes.find('other')).toBeUndefined();
      await sleep(1100);
      expect(await codes.find('code-1')).toMatchObject({ jti: 'code-1' }); // expired, still there for the engine to say so
      await sleep(EXPIRED_RECORD_GRACE_SECONDS * 1000);
      expect(await codes.find('code-1')).toBeUndefined();
      // consume of a record gone, or never stored, re-creates nothing
      await codes.consume('code-1');
      await codes.consume('never-stored');
      expect(await codes.find('code-1')).toBeUndefined();
      expect(await codes.find('never-stored')).toBeUndefined();
    },
    (EXPIRED_RECORD_GRACE_SECONDS + 10) * 1000,
  );

  it('consume marks the record and keeps the payload byte for byte (empty arrays, large numbers)', async () => {
    const tokens = store.adapterFor('RefreshToken');
    const payload = {
      jti: 'rt-1',
      kind: 'RefreshToken',
      amr: [],
      extra: {},
      big: 9007199254740991,
      ratio: 0.1234567890123,
      name: 'Zoë "quoted" } ,"consumed":1}',
    };
    await tokens.upsert('rt-1', payload as unknown as AdapterPayload, 60);
    const before = epoch();
    await tokens.consume('rt-1');
    const consumed = await tokens.find('rt-1');
    expect(consumed).toEqual({ ...payload, consumed: expect.any(Number) });
    expect(consumed!.consumed).toBeGreaterThanOrEqual(before);
    await tokens.consume('rt-1');
    expect(await tokens.find('rt-1')).toEqual({ ...payload, consumed: expect.any(Number) });
  });

  it('finds a session by uid and a device code by user code', async () => {
    const sessions = store.adapterFor('Session');
    await sessions.upsert('session-1', { jti: 'session-1', uid: 'uid-1', accountId: 'alice' } as AdapterPayload, 60);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 'session-1', accountId: 'alice' });
    expect(await sessions.findByUid('uid-unknown')).toBeUndefined();
    await sessions.destroy('session-1');
    expect(await sessions.findByUid('uid-1')).toBeUndefined();

    const devices = store.adapterFor('DeviceCode');
    await devices.upsert('device-1', { jti: 'device-1', userCode: 'WDJBMJHT', grantId: 'g-device' } as AdapterPayload, 60);
    expect(await devices.findByUserCode('WDJBMJHT')).toMatchObject({ jti: 'device-1' });
    expect(await devices.findByUserCode('XXXXXXXX')).toBeUndefined();
  });

  it('revokeByGrantId deletes every token of that grant in every model, and only those', async () => {
    const access = store.adapterFor('AccessToken');
    const refresh = store.adapterFor('RefreshToken');
    const codes = store.adapterFor('AuthorizationCode');
    await access.upsert('at-a', { jti: 'at-a', grantId: 'grant-a' } as AdapterPayload, 30);
    await refresh.upsert('rt-a', { jti: 'rt-a', grantId: 'grant-a' } as AdapterPayload, 300);
    await codes.upsert('code-a', { jti: 'code-a', grantId: 'grant-a' } as AdapterPayload, 10);
    await access.upsert('at-b', { jti: 'at-b', grantId: 'grant-b' } as AdapterPayload, 30);
    await refresh.revokeByGrantId('grant-a');
    expect(await access.find('at-a')).toBeUndefined();
    expect(await refresh.find('rt-a')).toBeUndefined();
    expect(await codes.find('code-a')).toBeUndefined();
    expect(await access.find('at-b')).toMatchObject({ jti: 'at-b' });
    // Called again (oidc-provider calls it once per model): nothing left, no error.
    await access.revokeByGrantId('grant-a');
  });

  it('keeps a record stored without TTL (dynamically registered clients)', async () => {
    const clients = store.adapterFor('Client');
    await clients.upsert('dyn-client', { client_id: 'dyn-client', redirect_uris: ['http://localhost/cb'] } as unknown as AdapterPayload);
    expect(await clients.find('dyn-client')).toEqual({ client_id: 'dyn-client', redirect_uris: ['http://localhost/cb'] });
  });

  it('namespaces do not see each other', async () => {
    const other = root.namespace('http://localhost:9500');
    await store.adapterFor('Grant').upsert('grant-x', { jti: 'grant-x', accountId: 'alice' } as AdapterPayload, 60);
    expect(await other.adapterFor('Grant').find('grant-x')).toBeUndefined();
    await other.putIfAbsent('keys', 'other-keys');
    expect(await store.get('keys')).toBeUndefined();
  });

  it('putIfAbsent: of concurrent writers exactly one wins, and every one reads the winner', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => store.putIfAbsent('race', `writer-${index}`)));
    expect(new Set(results).size).toBe(1);
    expect(await store.get('race')).toBe(results[0]);
  });

  it('field sets: writes merge, and return every field', async () => {
    expect(await store.readFields('user-claims:bob')).toEqual({});
    expect(await store.writeFields('user-claims:bob', { name: '"Bob"' })).toEqual({ name: '"Bob"' });
    expect(await store.writeFields('user-claims:bob', { email: 'null' })).toEqual({ name: '"Bob"', email: 'null' });
    expect(await store.readFields('user-claims:bob')).toEqual({ name: '"Bob"', email: 'null' });
  });

  it('field sets: deletes remove only the named fields, and the last one removes the set', async () => {
    await store.writeFields('pending', { a: '1', b: '2', c: '3' });
    await store.deleteFields('pending', ['a', 'never-written']);
    expect(await store.readFields('pending')).toEqual({ b: '2', c: '3' });
    await store.deleteFields('pending', []);
    await store.deleteFields('absent', ['a']);
    expect(await store.readFields('absent')).toEqual({});
    await store.deleteFields('pending', ['b', 'c']);
    expect(await store.readFields('pending')).toEqual({});
    expect(await store.writeFields('pending', { d: '4' })).toEqual({ d: '4' });
  });

  it('field sets: concurrent increments all count, from an absent field, and return the sum', async () => {
    const sums = await Promise.all(Array.from({ length: 10 }, () => store.incrementField('counters', 'hits')));
    expect(sums.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await store.incrementField('counters', 'hits', 5)).toBe(15);
    expect(await store.readFields('counters')).toEqual({ hits: '15' });
  });

  it('lists the live records of one model in its namespace only, payloads whole', async () => {
    const sessions = store.adapterFor('Session');
    await sessions.upsert('s-1', { uid: 'u-1', accountId: 'alice' }, 60);
    await sessions.upsert('s-2', { uid: 'u-2', accountId: 'bob' }, 60);
    await store.adapterFor('Grant').upsert('g-1', { accountId: 'alice' }, 60);
    await root.namespace('http://localhost:9501').adapterFor('Session').upsert('s-3', { uid: 'u-3' }, 60);
    await sessions.destroy('s-2');
    expect(await store.listRecords('Session')).toEqual([{ id: 's-1', payload: { uid: 'u-1', accountId: 'alice' } }]);
  });

  it('reports itself healthy', async () => {
    expect(await root.health()).toMatchObject({ ok: true, kind: root.kind });
  });
});

(redisUp ? describe : describe.skip)('redis store keys', () => {
  const prefix = uniquePrefix('layout');
  let store: RedisStore;
  let raw: Redis;
  beforeAll(async () => {
    store = await RedisStore.open({ url: testRedisUrl(), prefix, purgeOnClose: true });
    raw = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await store.close();
    expect(await raw.keys(`${prefix}*`)).toEqual([]);
    raw.disconnect();
  });

  it('records carry the payload TTL; the grant index lives as long as its longest token (EXPIRE NX/GT)', async () => {
    const issuer = store.namespace('http://localhost:9400');
    await issuer.adapterFor('AccessToken').upsert('at-1', { jti: 'at-1', grantId: 'g1' } as AdapterPayload, 100);
    const index = `${prefix}{http://localhost:9400}:idx:grant:g1`;
    expect(await raw.ttl(`${prefix}{http://localhost:9400}:AccessToken:at-1`)).toBeGreaterThan(95);
    expect(await raw.smembers(index)).toEqual([`${prefix}{http://localhost:9400}:AccessToken:at-1`]);
    expect(await raw.ttl(index)).toBeGreaterThan(95);
    await issuer.adapterFor('RefreshToken').upsert('rt-1', { jti: 'rt-1', grantId: 'g1' } as AdapterPayload, 1000);
    expect(await raw.ttl(index)).toBeGreaterThan(995);
    await issuer.adapterFor('AccessToken').upsert('at-2', { jti: 'at-2', grantId: 'g1' } as AdapterPayload, 50);
    expect(await raw.ttl(index)).toBeGreaterThan(995);
  });

  it('consume keeps the TTL; a record without TTL has none', async () => {
    const issuer = store.namespace('http://localhost:9400');
    await issuer.adapterFor('AuthorizationCode').upsert('c-1', { jti: 'c-1' } as AdapterPayload, 60);
    await issuer.adapterFor('AuthorizationCode').consume('c-1');
    expect(await raw.ttl(`${prefix}{http://localhost:9400}:AuthorizationCode:c-1`)).toBeGreaterThan(55);
    await issuer.adapterFor('Client').upsert('dyn', { client_id: 'dyn' } as unknown as AdapterPayload);
    expect(await raw.ttl(`${prefix}{http://localhost:9400}:Client:dyn`)).toBe(-1);
  });

  it('braces in a namespace cannot end the hash tag early', async () => {
    await store.namespace('http://{odd}').putIfAbsent('keys', 'x');
    expect(await raw.exists(`${prefix}{http://%7Bodd%7D}:state:keys`)).toBe(1);
  });
});

describe('local revisions: what a reader may keep between changes', () => {
  it('memory: removals move on destroy, revokeByGrantId and consume (any namespace), fieldSets on field writes; not on upserts', async () => {
    const root = new MemoryStore();
    const revisions = root.localRevisions!;
    const tokens = root.namespace('http://localhost:9400').adapterFor('AccessToken');
    const counts = () => ({ ...revisions });
    let before = counts();
    await tokens.upsert('at-1', { jti: 'at-1', grantId: 'g1' } as AdapterPayload, 60);
    expect(counts()).toEqual(before);
    for (const remove of [() => tokens.destroy('at-1'), () => tokens.revokeByGrantId('g1'), () => tokens.consume('at-2')]) {
      before = counts();
      await remove();
      expect(revisions.removals).toBeGreaterThan(before.removals);
    }
    before = counts();
    await root.namespace('other').writeFields('doc', { a: '1' });
    expect(revisions.fieldSets).toBeGreaterThan(before.fieldSets);
    before = counts();
    await root.namespace('other').deleteFields('doc', ['a']);
    expect(revisions.fieldSets).toBeGreaterThan(before.fieldSets);
    await root.close();
  });

  (redisUp ? it : it.skip)('redis: none (other replicas change it unseen)', async () => {
    const root: Store = await RedisStore.open({ url: testRedisUrl(), prefix: uniquePrefix('contract'), purgeOnClose: true });
    expect(root.localRevisions).toBeUndefined();
    expect(root.namespace('x').localRevisions).toBeUndefined();
    await root.close();
  });

  it('a user directory on a memory store sees a change made through another directory on the same store', async () => {
    const store = new MemoryStore();
    const alice = { username: 'alice', sub: 'alice', password: 'pw', claims: { name: 'Alice' }, roles: [] } as unknown as FixtureUser;
    const [reader, writer] = [new UserDirectory([alice], store), new UserDirectory([alice], store)];
    expect((await reader.findBySub('alice'))?.claims.name).toBe('Alice');
    await writer.updateClaims('alice', { name: 'Alice Changed' });
    expect((await reader.findBySub('alice'))?.claims.name).toBe('Alice Changed');
    await store.close();
  });
});
