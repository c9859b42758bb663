/**
 * An issuer's clock offset on Redis: set through one replica, in force for the next request the
 * other serves (two testbeds with one issuer and one key prefix, behind a switch).
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { controlCall } from '../support/http.ts';
import { client } from '../support/openid.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { DIRECTORY_API, discoverAt } from './core-flows.ts';
import { useReplicaPair } from './testbed-processes.ts';

const redisUp = await requireRedis();
const nowS = () => Math.floor(Date.now() / 1000);
const near = (actual: number, expected: number, slack = 5) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(slack);

(redisUp ? describe : describe.skip)('the clock of an issuer, on two replicas sharing one Redis', () => {
  const { issuer, one, two, on } = useReplicaPair({ prefix: uniquePrefix('clock'), apis: false });
  const readClock = async () => (await (await fetch(`${issuer()}/_testbed/clock`)).json()) as { offset_s: number; now: { epoch: number } };
  const accessTokenIat = async () => {
    const config = await discoverAt(issuer(), 'service-client', 'service-client-secret');
    const tokens = await client.clientCredentialsGrant(config, { resource: DIRECTORY_API, scope: 'fr:idm:*' });
    return decodeJwt(tokens.access_token).iat!;
  };

  it('an offset PUT on replica 1 is seen by the next request on replica 2 (HTTP and library), and its tokens carry it', async () => {
    on(one());
    const put = await controlCall('PUT', `${issuer()}/_testbed/clock`, { offset_s: 300 });
    expect(put.status).toBe(200);

    on(two());
    const seen = await readClock();
    expect(seen.offset_s).toBe(300);
    near(seen.now.epoch, nowS() + 300);
    expect((await two().main.clock.get()).offsetS).toBe(300);
    near(await accessTokenIat(), nowS() + 300);

    // Back to real time through replica 2's library: replica 1 follows.
    await two().main.clock.set(0);
    on(one());
    expect((await readClock()).offset_s).toBe(0);
    near(await accessTokenIat(), nowS());
  });
});
