/**
 * `<issuer>/_testbed/tokens`: tokens for testing a resource server, without a login, issued as the
 * issuer's own grants issue them — accepted by the mock APIs, introspectable (RFC 7662), revocable
 * (RFC 7009), DPoP-bound on request (RFC 9449), and ID tokens that verify with the issuer's JWKS.
 */
import { describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { DirectTokenError, type DirectTokenResponse } from '../../src/control/direct-tokens.ts';
import { controlCall } from '../support/http.ts';
import { client, discover } from '../support/openid.ts';
import { bearer, callApi, DIRECTORY_API, dpopKey, dpopProof, PROFILE_API, webApp } from '../support/resource-servers.ts';
import { readFixture, useTestbed } from '../support/testbed.ts';

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

describe('direct tokens (JWT access tokens: the default fixture)', () => {
  const testbed = useTestbed();
  const order = async (
    body: unknown,
    contentType = 'application/json',
  ): Promise<Answer<DirectTokenResponse & { error?: string; error_description?: string }>> =>
    controlCall('POST', `${testbed().issuer}/_testbed/tokens`, body, { type: contentType });
  const me = (token: string) => callApi(new URL('me', testbed().urls.profileApi), { headers: bearer(token) });
  const introspect = async (token: string) =>
    client.tokenIntrospection(await discover(testbed(), 'profile-api', 'profile-api-secret'), token);

  it('issues an access token the profile API accepts and introspection describes; revoked, both refuse it', async () => {
    const issued = await order({
      sub: 'alice',
      client_id: 'web-app',
      resource: PROFILE_API,
      scope: 'profile',
      ttl_s: 60,
      claims: { tenant: 'acme' },
    });
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 60, scope: 'profile' });
    const token = issued.body.access_token;
    // The resource's token_format is jwt: an RFC 9068 access token.
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: testbed().issuer,
      sub: 'alice',
      aud: PROFILE_API,
      client_id: 'web-app',
      scope: 'profile',
      tenant: 'acme',
    });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims).not.toHaveProperty('cnf');

    const profile = await me(token);
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ sub: 'alice', name: 'Alice Example' });
    expect(profile.body).not.toHaveProperty('email'); // profile scope only

    expect(await introspect(token)).toMatchObject({
      active: true,
      sub: 'alice',
      scope: 'profile',
      aud: PROFILE_API,
      client_id: 'web-app',
      token_type: 'Bearer',
      exp: claims.exp,
    });

    // RFC 7009 by the client it was issued to.
    await client.tokenRevocation(await webApp(testbed()), token);
    expect((await me(token)).status).toBe(401);
    expect(await introspect(token)).toEqual({ active: false });
  });

  it('dpop_jkt binds the token to the key (cnf.jkt, token_type DPoP): refused as Bearer, accepted with a proof', async () => {
    const key = await dpopKey();
    const jkt = await calculateJwkThumbprint(key.publicJwk);
    const issued = await order({ sub: 'alice', client_id: 'web-app', resource: PROFILE_API, scope: 'profile email', dpop_jkt: jkt });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'DPoP', scope: 'profile email', expires_in: expect.any(Number) });
    const token = issued.body.access_token;
    expect(decodeJwt(token).cnf).toEqual({ jkt });

    const asBearer = await me(token);
    expect(asBearer.status).toBe(401);
    const url = new URL('me', testbed().urls.profileApi);
    const withProof = await callApi(url, {
      headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', url.href, token) },
    });
    expect(withProof.status).toBe(200);
    expect(withProof.body).toMatchObject({ sub: 'alice', email: 'alice@example.com' });
    expect(await introspect(token)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });
  });

  it('id_token: true adds an ID token for the client with the scopes’ claims and `claims`, verified with the JWKS', async () => {
    const issued = await order({
      sub: 'alice',
      client_id: 'web-app',
      resource: PROFILE_API,
      scope: 'openid profile email',
      claims: { tenant: 'acme', acr: 'urn:test:loa:2' },
      id_token: true,
    });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'profile email', id_token: expect.any(String) });
    const { payload, protectedHeader } = await jwtVerify(issued.body.id_token!, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'web-app',
      subject: 'alice',
      requiredClaims: ['iat', 'exp', 'auth_time'],
    });
    expect(protectedHeader.alg).toBe('RS256'); // the fixture's id_token_alg
    expect(payload).toMatchObject({
      name: 'Alice Example',
      given_name: 'Alice',
      email: 'alice@example.com',
      email_verified: true,
      tenant: 'acme',
      acr: 'urn:test:loa:2',
    });
    expect(payload).not.toHaveProperty('address'); // not asked for
    expect(payload).not.toHaveProperty('phone_number');
    expect((await me(issued.body.access_token)).status).toBe(200);
  });

  it('the library: tokens.accessToken() and tokens.idToken() answer the same shape; bad orders throw DirectTokenError naming the field', async () => {
    const { tokens } = testbed().main;
    const access = await tokens.accessToken({ sub: 'bob', client_id: 'web-app', scope: 'profile' });
    // No resource: the one resource owning the scope, as the grants choose.
    expect(access).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number), scope: 'profile' });
    expect(decodeJwt(access.access_token)).toMatchObject({ sub: 'bob', aud: PROFILE_API });
    expect((await me(access.access_token)).body).toMatchObject({ sub: 'bob', name: 'Bob Example' });

    const withId = await tokens.idToken({ sub: 'bob', client_id: 'node-openid-client', resource: PROFILE_API, scope: 'openid email' });
    const { payload } = await jwtVerify(withId.id_token, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'node-openid-client',
    });
    expect(payload).toMatchObject({ sub: 'bob', email: 'bob@example.com', email_verified: false });
    expect(payload).not.toHaveProperty('name');

    await expect(tokens.accessToken({ sub: 'nobody', client_id: 'web-app' })).rejects.toMatchObject({
      name: 'DirectTokenError',
      field: 'sub',
    });
    await expect(tokens.accessToken({ sub: 'alice', client_id: 'web-app', ttl_s: 0 })).rejects.toBeInstanceOf(DirectTokenError);
  });

  it('a client registered with dpop_bound_access_tokens gets no Bearer token; the directory API refuses a profile-API token', async () => {
    const refused = await order({ sub: 'alice', client_id: 'par-client', resource: PROFILE_API, scope: 'profile' });
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toMatch(/^dpop_jkt: /);

    const directory = await order({ sub: 'alice', client_id: 'web-app', resource: DIRECTORY_API, scope: 'fr:idm:*' });
    expect(directory.status).toBe(200);
    expect(decodeJwt(directory.body.access_token).aud).toBe(DIRECTORY_API);
    expect((await me(directory.body.access_token)).status).toBe(401); // audience of another API
  });

  it('reset() revokes every direct token issued', async () => {
    const issued = await order({ sub: 'alice', client_id: 'web-app', resource: PROFILE_API, scope: 'profile' });
    expect((await me(issued.body.access_token)).status).toBe(200);
    await testbed().main.tokens.reset();
    expect((await me(issued.body.access_token)).status).toBe(401);
    expect(await introspect(issued.body.access_token)).toEqual({ active: false });
  });

  it.each([
    ['malformed JSON', '{"sub": "alice",', /not valid JSON/],
    ['a JSON array', '[]', /^the body must be a JSON object: send \{ "sub"/],
    ['an unknown field', { sub: 'alice', client_id: 'web-app', audience: PROFILE_API }, /^body: unknown field "audience"/],
    ['sub missing', { client_id: 'web-app' }, /^sub: is required/],
    ['sub of the wrong type', { sub: 7, client_id: 'web-app' }, /^sub: must be a string/],
    ['an unknown sub', { sub: 'nobody', client_id: 'web-app' }, /^sub: no user with sub "nobody"/],
    ['an unknown client', { sub: 'alice', client_id: 'nope' }, /^client_id: no client "nope"/],
    ['an unknown resource', { sub: 'alice', client_id: 'web-app', resource: 'https://api.example/' }, /^resource: unknown resource/],
    [
      'a scope the resource does not have',
      { sub: 'alice', client_id: 'web-app', resource: PROFILE_API, scope: 'profile fr:idm:*' },
      /^scope: fr:idm:\* is not a scope of resource/,
    ],
    ['an unknown scope', { sub: 'alice', client_id: 'web-app', scope: 'launch-missiles' }, /^scope: launch-missiles/],
    ['ttl_s as a string', { sub: 'alice', client_id: 'web-app', ttl_s: '60' }, /^ttl_s: must be a number/],
    ['ttl_s zero', { sub: 'alice', client_id: 'web-app', ttl_s: 0 }, /^ttl_s: /],
    ['ttl_s not whole', { sub: 'alice', client_id: 'web-app', ttl_s: 1.5 }, /^ttl_s: /],
    ['ttl_s beyond the grant lifetime', { sub: 'alice', client_id: 'web-app', ttl_s: 10 ** 9 }, /^ttl_s: at most \d+/],
    ['claims not an object', { sub: 'alice', client_id: 'web-app', claims: ['a'] }, /^claims: /],
    ['a claim the issuer sets', { sub: 'alice', client_id: 'web-app', claims: { aud: 'x' } }, /^claims\.aud: the issuer sets/],
    ['a malformed dpop_jkt', { sub: 'alice', client_id: 'web-app', dpop_jkt: 'short' }, /^dpop_jkt: must be a JWK SHA-256 thumbprint/],
    ['id_token not a boolean', { sub: 'alice', client_id: 'web-app', id_token: 'yes' }, /^id_token: must be a boolean/],
  ])('answers %s with 400 invalid_request naming it', async (_case, body, description) => {
    const answer = await order(body);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(description) });
  });

  it('answers a body that is not JSON with 400', async () => {
    const answer = await order('sub=alice&client_id=web-app', 'application/x-www-form-urlencoded');
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('application/json') });
  });
});

describe('direct tokens for a resource with opaque access tokens', () => {
  const testbed = useTestbed(() => ({ fixture: readFixture('opaque-profile-api.yaml') }));

  it('issues an opaque token the profile API accepts (by introspection) and that revocation kills', async () => {
    const issued = await testbed().main.tokens.accessToken({
      sub: 'alice',
      client_id: 'web-app',
      resource: PROFILE_API,
      scope: 'email',
      ttl_s: 120,
    });
    expect(issued).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'email' });
    expect(issued.access_token.split('.')).toHaveLength(1); // not a JWT
    const url = new URL('me', testbed().urls.profileApi);
    const answer = await callApi(url, { headers: bearer(issued.access_token) });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ sub: 'alice', email: 'alice@example.com', email_verified: true });
    const config = await discover(testbed(), 'profile-api', 'profile-api-secret');
    expect(await client.tokenIntrospection(config, issued.access_token)).toMatchObject({ active: true, sub: 'alice', aud: PROFILE_API });

    await client.tokenRevocation(await webApp(testbed()), issued.access_token);
    expect((await callApi(url, { headers: bearer(issued.access_token) })).status).toBe(401);
  });
});
