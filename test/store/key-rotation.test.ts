/**
 * A key rotation on one replica is in force on the other from its next request: two testbeds in
 * this process, one issuer URL (a switch sends each request to the replica the test names), one
 * Redis prefix. Nothing but Redis connects them.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import type { Testbed } from '../../src/index.ts';
import { controlCall } from '../support/http.ts';
import { discover, signIn } from '../support/openid.ts';
import { bearer, callApi, PROFILE_API, userTokens, WEB_APP_REDIRECT } from '../support/resource-servers.ts';
import { requireRedis, uniquePrefix } from '../support/store.ts';
import { useReplicaPair } from './testbed-processes.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('signing-key rotation shared by two replicas on one Redis', () => {
  const { one, two, on } = useReplicaPair({ prefix: uniquePrefix('key-rotation') });
  /** The signing keys both replicas started with. */
  let startKids: Array<string | undefined> = [];
  const signingKids = async (replica: Testbed) => {
    on(replica);
    const jwks = (await (await fetch(`${replica.issuer}/jwks`)).json()) as JSONWebKeySet;
    return jwks.keys.filter((jwk) => jwk.use === 'sig').map((jwk) => jwk.kid);
  };
  const profile = (replica: Testbed, token: string) => callApi(new URL('userinfo', replica.urls.profileApi), { headers: bearer(token) });

  it('replica 1 rotates; the next ID token replica 2 issues has the new kid, and its JWKS keeps the old key', async () => {
    const start = await signingKids(two());
    expect(await signingKids(one())).toEqual(start);
    startKids = start;

    on(one());
    const answer = await controlCall('POST', `${one().issuer}/_testbed/keys/rotate`, { alg: 'RS256' });
    expect(answer.status).toBe(200);
    const { kid } = answer.body as { kid: string };

    on(two());
    const config = await discover(two(), 'web-app', 'web-app-secret');
    const { tokens } = await signIn(config, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile' });
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(kid);
    expect(await signingKids(two())).toEqual([kid, ...start]);
    expect((await two().main.keys.list()).current.RS256).toBe(kid);
  });

  it("replica 1 retires the ES256 key: replica 2's mock API refuses a token it had accepted, and accepts a new one", async () => {
    on(two());
    const { tokens: old } = await userTokens(two(), PROFILE_API, 'profile');
    expect((await profile(two(), old.access_token)).status).toBe(200); // replica 2's API has it cached

    const retired = await one().main.keys.rotate({ alg: 'ES256', retirePrevious: true });
    expect(retired.retired).toEqual([decodeProtectedHeader(old.access_token).kid]);

    const refused = await profile(two(), old.access_token);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_token');
    on(two());
    const { tokens: fresh } = await userTokens(two(), PROFILE_API, 'profile');
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(retired.kid);
    expect((await profile(two(), fresh.access_token)).status).toBe(200);
  });

  it('a reset on replica 2 brings the start-up keys back on replica 1', async () => {
    expect(await signingKids(one())).not.toEqual(startKids);
    await two().main.keys.reset();
    expect(startKids).toHaveLength(3);
    expect(await signingKids(one())).toEqual(startKids);
    expect(one().main.keys.revision).toBe('start');
    expect(await signingKids(two())).toEqual(startKids);
  });
});
