/**
 * Two testbeds with the same issuer on one Redis but different key prefixes (two CI runs sharing a
 * Redis) are two separate IdPs: their keys, sessions and tokens never meet.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startTestbed, type Testbed } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { authorize, client } from '../support/openid.ts';
import { requireRedis, SUITE_FIXTURE, testRedisUrl, uniquePrefix } from '../support/store.ts';
import { clientCredentialsRevocation, codeRefreshIntrospectRevoke, discoverAt, REDIRECT_URI } from './core-flows.ts';
import { type Switch, startSwitch } from './testbed-processes.ts';

const redisUp = await requireRedis();

(redisUp ? describe : describe.skip)('two testbeds with one issuer on one Redis, different prefixes', () => {
  const prefixes = [uniquePrefix('run-a'), uniquePrefix('run-b')];
  let gateway: Switch;
  let issuer: string;
  let a: Testbed;
  let b: Testbed;
  const on = (testbed: Testbed) => {
    gateway.target = Number(new URL(testbed.urls.health).port);
  };

  beforeAll(async () => {
    gateway = await startSwitch();
    issuer = `http://localhost:${gateway.port}`;
    [a, b] = await Promise.all(
      prefixes.map((prefix) =>
        startTestbed({ port: 0, fixture: SUITE_FIXTURE, apis: false, issuer, redis: { url: testRedisUrl(), prefix, purgeOnClose: true } }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await gateway?.close();
    const raw = new Redis(testRedisUrl());
    for (const prefix of prefixes) expect(await raw.keys(`${prefix}*`)).toEqual([]);
    raw.disconnect();
  });

  it('each runs the core flows on its own', async () => {
    on(a);
    await codeRefreshIntrospectRevoke(issuer);
    await clientCredentialsRevocation(issuer);
    on(b);
    await codeRefreshIntrospectRevoke(issuer);
    await clientCredentialsRevocation(issuer);
  });

  it("they sign with different keys, and neither knows the other's tokens or sessions", async () => {
    on(a);
    const jwksA = await (await fetch(`${issuer}/jwks`)).json();
    const config = await discoverAt(issuer, 'node-openid-client', 'password');
    const agent = new UserAgent();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid offline_access' }, agent);
    const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, {
      pkceCodeVerifier: auth.codeVerifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true });

    on(b);
    expect(await (await fetch(`${issuer}/jwks`)).json()).not.toEqual(jwksA);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    expect(await client.tokenIntrospection(config, tokens.refresh_token!)).toEqual({ active: false });
    const silent = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none' }, agent);
    expect(silent.callbackUrl.searchParams.get('error')).toBe('login_required');
    await client.tokenRevocation(config, tokens.access_token);

    on(a);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true });
  });
});
