/**
 * A restart on Redis keeps everything: the keys (tokens still verify), sessions (the browser stays
 * signed in), grants and tokens (refresh, introspection, userinfo).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { startTestbed, type Testbed, type TestbedOptions } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { authorize, client } from '../support/openid.ts';
import { purgePrefix, requireRedis, SUITE_FIXTURE, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { discoverAt, PROFILE_API, REDIRECT_URI } from './core-flows.ts';
import { freePort } from './redis-servers.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('a testbed restarted on Redis', () => {
  const prefix = uniquePrefix('restart');
  let running: Testbed | undefined;
  afterAll(async () => {
    await running?.stop();
    await purgePrefix(prefix);
  });

  it('accepts the tokens and sessions it issued before the restart', async () => {
    const options: TestbedOptions = { port: await freePort(), fixture: SUITE_FIXTURE, apis: false, redis: { url: testRedisUrl(), prefix } };
    running = await startTestbed(options);
    const { issuer } = running;
    const jwksBefore = (await (await fetch(running.urls.jwks)).json()) as JSONWebKeySet;
    let config = await discoverAt(issuer, 'node-openid-client', 'password');
    const agent = new UserAgent();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile offline_access' }, agent);
    const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, {
      pkceCodeVerifier: auth.codeVerifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    const jwt = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });

    await running.stop();
    running = undefined;
    running = await startTestbed(options);
    expect(running.issuer).toBe(issuer);
    config = await discoverAt(issuer, 'node-openid-client', 'password');

    expect(await (await fetch(running.urls.jwks)).json()).toEqual(jwksBefore);
    const { payload } = await jwtVerify(
      jwt.access_token,
      createLocalJWKSet((await (await fetch(running.urls.jwks)).json()) as JSONWebKeySet),
      { issuer, audience: PROFILE_API },
    );
    expect(payload.sub).toBe('alice');
    expect(await client.tokenIntrospection(config, jwt.access_token)).toMatchObject({ active: true, sub: 'alice' });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ name: 'Alice Example' });
    const refreshed = await client.refreshTokenGrant(config, jwt.refresh_token!, { resource: PROFILE_API });
    expect(refreshed.access_token).toEqual(expect.any(String));

    // The session cookie from before the restart still names a live session (cookie keys kept too).
    const silent = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none' }, agent);
    expect(silent.callbackUrl.searchParams.get('error')).toBeNull();
    expect(silent.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));
  });
});
