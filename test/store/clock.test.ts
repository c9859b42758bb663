/**
 * An issuer's clock offset on Redis: set through one replica, in force for the next request the
 * other serves (two testbeds with one issuer and one key prefix, behind a switch).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { startTestbed, type Testbed } from '../../src/index.ts';
import { client } from '../support/openid.ts';
import { requireRedis, SUITE_FIXTURE, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { DIRECTORY_API, discoverAt } from './core-flows.ts';
import { type Switch, startSwitch } from './testbed-processes.ts';

const redisUp = await requireRedis();
const nowS = () => Math.floor(Date.now() / 1000);
const near = (actual: number, expected: number, slack = 5) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(slack);

(redisUp ? describe : describe.skip)('the clock of an issuer, on two replicas sharing one Redis', () => {
  const prefix = uniquePrefix('clock');
  let gateway: Switch;
  let issuer: string;
  let one: Testbed;
  let two: Testbed;
  const on = (replica: Testbed) => {
    gateway.target = Number(new URL(replica.urls.health).port);
  };
  const readClock = async () => (await (await fetch(`${issuer}/_testbed/clock`)).json()) as { offset_s: number; now: { epoch: number } };
  const accessTokenIat = async () => {
    const config = await discoverAt(issuer, 'service-client', 'service-client-secret');
    const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' });
    return decodeJwt(tokens.access_token).iat!;
  };

  beforeAll(async () => {
    gateway = await startSwitch();
    issuer = `http://localhost:${gateway.port}`;
    [one, two] = await Promise.all(
      [1, 2].map(() =>
        startTestbed({
          port: 0,
          fixture: SUITE_FIXTURE,
          apis: false,
          logLevel: 'silent',
          issuer,
          redis: { url: testRedisUrl(), prefix, purgeOnClose: true },
        }),
      ),
    );
  });
  afterAll(async () => {
    await one?.main.clock.reset();
    await Promise.all([one?.stop(), two?.stop()]);
    await gateway?.close();
  });

  it('an offset PUT on replica 1 is seen by the next request on replica 2 (HTTP and library), and its tokens carry it', async () => {
    on(one);
    const put = await fetch(`${issuer}/_testbed/clock`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offset_s: 300 }),
    });
    expect(put.status).toBe(200);

    on(two);
    const seen = await readClock();
    expect(seen.offset_s).toBe(300);
    near(seen.now.epoch, nowS() + 300);
    expect((await two.main.clock.get()).offsetS).toBe(300);
    near(await accessTokenIat(), nowS() + 300);

    // Back to real time through replica 2's library: replica 1 follows.
    await two.main.clock.set(0);
    on(one);
    expect((await readClock()).offset_s).toBe(0);
    near(await accessTokenIat(), nowS());
  });
});
