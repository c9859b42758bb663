/**
 * The mock APIs as a relying party meets them, through openid-client 6: per-resource tokens, the
 * seed app's refresh-on-invalid_token loop with 4-second tokens, DPoP, opaque tokens through
 * introspection, and revocation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { client, discover, signIn } from '../support/openid.ts';
import {
  bearer,
  callApi,
  DIRECTORY_API,
  PROFILE_API,
  serviceToken,
  userTokens,
  WEB_APP_REDIRECT,
  webApp,
} from '../support/resource-servers.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

/** The API's challenge as openid-client parsed it, from a failed fetchProtectedResource. */
async function challengeOf(call: Promise<Response>): Promise<Record<string, string> & { scheme: string }> {
  const failure = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(client.WWWAuthenticateChallengeError);
  const [challenge] = (failure as client.WWWAuthenticateChallengeError).cause;
  return { scheme: challenge.scheme, ...challenge.parameters };
}

describe('mock APIs end to end with openid-client', () => {
  const testbed = useTestbed();
  const userinfo = () => new URL('userinfo', testbed().urls.profileApi);
  const login = () => new URL('info/login', testbed().urls.directoryApi);

  it('a token for the profile API works there and is invalid_token at the directory API', async () => {
    const { config, tokens } = await userTokens(testbed(), PROFILE_API, 'profile email');
    const response = await client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET');
    expect(await response.json()).toMatchObject({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com' });
    expect(await challengeOf(client.fetchProtectedResource(config, tokens.access_token, login(), 'GET'))).toEqual({
      scheme: 'bearer',
      realm: 'directory-api',
      error: 'invalid_token',
      error_description: 'access token audience is not this API (expected http://localhost:9402/openidm/, got http://localhost:9401/)',
    });
  });

  it('the seed app: 4-second tokens per resource (chosen by scope), invalid_token after expiry, a refresh fixes it', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    // openid-client-helper: one sign-in (the "master" token set), then a refresh per resource scope.
    const { tokens: master } = await signIn(config, {
      redirect_uri: 'http://localhost:3000/forgerock/redirect',
      scope: 'openid profile fr:idm:*',
    });
    const tokens = await client.refreshTokenGrant(config, master.refresh_token!, { scope: 'profile' });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ aud: PROFILE_API, scope: 'profile' });
    expect(claims.exp! - claims.iat!).toBe(4);
    expect((await client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET')).status).toBe(200);

    const forDirectory = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'fr:idm:*' });
    expect((await client.fetchProtectedResource(config, forDirectory.access_token, login(), 'GET')).status).toBe(200);

    await sleep(claims.exp! * 1000 - Date.now() + 50);
    const challenge = await challengeOf(client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET'));
    expect(challenge).toEqual({
      scheme: 'bearer',
      realm: 'profile-api',
      error: 'invalid_token',
      error_description: 'access token expired',
    });

    const renewed = await client.refreshTokenGrant(config, forDirectory.refresh_token!, { scope: 'profile' });
    expect((await client.fetchProtectedResource(config, renewed.access_token, userinfo(), 'GET')).status).toBe(200);
  });

  it('fetchProtectedResource with DPoP: a DPoP-bound user token', async () => {
    const config = await webApp(testbed());
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const { tokens } = await userTokens(testbed(), PROFILE_API, 'profile', { DPoP });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: expect.any(String) });
    const response = await client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET', undefined, undefined, { DPoP });
    expect(await response.json()).toMatchObject({ sub: 'alice' });
    // Without the proof the same token is refused, with the DPoP challenge.
    expect(await challengeOf(client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET'))).toMatchObject({
      scheme: 'dpop',
      error: 'invalid_token',
      algs: 'ES256 Ed25519 EdDSA',
    });
  });

  it('revocation of a JWT access token is honoured at once', async () => {
    const { config, tokens } = await userTokens(testbed(), DIRECTORY_API, 'fr:idm:*');
    expect((await client.fetchProtectedResource(config, tokens.access_token, login(), 'GET')).status).toBe(200);
    await client.tokenRevocation(config, tokens.access_token);
    expect(await challengeOf(client.fetchProtectedResource(config, tokens.access_token, login(), 'GET'))).toMatchObject({
      error: 'invalid_token',
      error_description: 'access token has been revoked (or was never issued by this issuer)',
    });
  });

  it('revocation of a client-credentials JWT (stored nowhere until then) is honoured at once, cached or not', async () => {
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*');
    expect(decodeJwt(token).jti).toMatch(/^cc-/);
    expect((await callApi(login(), { headers: bearer(token) })).status).toBe(200);
    expect((await callApi(login(), { headers: bearer(token) })).status).toBe(200);
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    await client.tokenRevocation(config, token);
    const refused = await callApi(login(), { headers: bearer(token) });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      error: 'invalid_token',
      error_description: 'access token has been revoked (or was never issued by this issuer)',
    });
    // Another token of the same client is untouched.
    expect((await callApi(login(), { headers: bearer(await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*')) })).status).toBe(200);
  });
});

describe('mock APIs end to end: an opaque-token resource, through introspection', () => {
  const testbed = useTestbed({ fixture: fixturePath('opaque-profile-api.yaml') });
  const userinfo = () => new URL('userinfo', testbed().urls.profileApi);

  it('an opaque token works, and its revocation is honoured at once', async () => {
    const config = await webApp(testbed());
    const { tokens } = await signIn(
      config,
      { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile email', resource: PROFILE_API },
      { resource: PROFILE_API },
    );
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const response = await client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET');
    expect(await response.json()).toEqual({
      sub: 'alice',
      name: 'Alice Example',
      given_name: 'Alice',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect((await client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET')).status).toBe(200);

    await client.tokenRevocation(config, tokens.access_token);
    expect(await challengeOf(client.fetchProtectedResource(config, tokens.access_token, userinfo(), 'GET'))).toMatchObject({
      error: 'invalid_token',
      error_description: 'access token has been revoked (or was never issued by this issuer)',
    });
  });

  it('an unknown opaque token: invalid_token from introspection', async () => {
    const config = await webApp(testbed());
    expect(await challengeOf(client.fetchProtectedResource(config, 'no-such-token', userinfo(), 'GET'))).toMatchObject({
      error: 'invalid_token',
      error_description: 'access token is not active (expired, revoked or unknown to the issuer)',
    });
  });
});
