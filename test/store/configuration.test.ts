/**
 * Where the Redis settings come from: the fixture's `redis` section, the library option (which
 * wins, `false` included), the CLI's --redis and REDIS_URL; and what the fixture refuses.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadDefaultFixture } from '../../src/fixtures/load.ts';
import { FixtureError, startTestbed, type Testbed, validateFixture } from '../../src/index.ts';
import { requireRedis, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { runCli, waitForBanner } from './testbed-processes.ts';

const redisUp = await requireRedis();

describe("the fixture's redis section", () => {
  it('takes a Redis URL and a prefix', () => {
    const fixture = validateFixture({ redis: { url: 'redis+sentinel://s1:26379,s2:26379/mymaster', prefix: 'ci-run-1:' } });
    expect(fixture.redis).toEqual({ url: 'redis+sentinel://s1:26379,s2:26379/mymaster', prefix: 'ci-run-1:' });
  });

  it('refuses other URLs and prefixes with braces, naming the field', () => {
    expect(() => validateFixture({ redis: { url: 'http://cache:6379' } })).toThrow(FixtureError);
    expect(() => validateFixture({ redis: { url: 'http://cache:6379' } })).toThrow(
      /redis\.url: must be a redis:\/\/, rediss:\/\/, redis\+cluster:\/\/ or redis\+sentinel:\/\/ URL/,
    );
    expect(() => validateFixture({ redis: { url: 'redis://cache', prefix: '{app}:' } })).toThrow(
      /redis\.prefix: must not contain \{ or \}/,
    );
    expect(() => validateFixture({ redis: { url: 'redis://cache', db: 2 } })).toThrow(/unknown field "db"/);
  });
});

(redisUp ? describe : describe.skip)('choosing the store', () => {
  const prefix = uniquePrefix('config');
  const started: Testbed[] = [];
  afterAll(async () => {
    await Promise.all(started.map((testbed) => testbed.stop()));
    const raw = new Redis(testRedisUrl());
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.unlink(...keys);
    raw.disconnect();
  });
  const storeOf = async (testbed: Testbed) => ((await (await fetch(testbed.urls.health)).json()) as { store: { kind: string } }).store.kind;

  it("uses the fixture's Redis and prefix; the redis option wins, and false keeps memory", async () => {
    const fixture = { ...loadDefaultFixture(), redis: { url: testRedisUrl(), prefix } };
    const fromFixture = await startTestbed({ port: 0, apis: false, fixture });
    started.push(fromFixture);
    expect(await storeOf(fromFixture)).toBe('redis');
    const raw = new Redis(testRedisUrl());
    expect(await raw.exists(`${prefix}{${fromFixture.issuer}}:state:keys`)).toBe(1);
    raw.disconnect();

    const inMemory = await startTestbed({ port: 0, apis: false, fixture, redis: false });
    started.push(inMemory);
    expect(await storeOf(inMemory)).toBe('memory');
  });

  it('the CLI reads REDIS_URL; --redis wins over it', async () => {
    const fromEnvironment = runCli(['start', '--port', '0', '--no-apis', '--redis-prefix', prefix, '--log-level', 'warn'], {
      REDIS_URL: testRedisUrl(),
    });
    const fromFlag = runCli(
      ['start', '--port', '0', '--no-apis', '--redis', testRedisUrl(), '--redis-prefix', prefix, '--log-level', 'warn'],
      { REDIS_URL: 'redis://127.0.0.1:1' },
    );
    try {
      for (const run of [fromEnvironment, fromFlag]) {
        const port = await waitForBanner(run);
        const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
        expect(health).toMatchObject({ status: 'ok', store: { kind: 'redis', target: testRedisUrl() } });
      }
    } finally {
      for (const run of [fromEnvironment, fromFlag]) run.child.kill('SIGTERM');
      await Promise.all([fromEnvironment.exited, fromFlag.exited]);
    }
  });
});
