/**
 * The resource owner password credentials grant (RFC 6749 §4.3) over raw HTTP: the default
 * fixture's legacy-app is registered for it; other clients, and issuers with the feature off, are not.
 */
import { describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { postForm, readJson } from '../support/http.ts';
import { bearer, callApi, DIRECTORY_API, dpopKey, dpopProof, PROFILE_API } from '../support/resource-servers.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const LEGACY: [string, string] = ['legacy-app', 'legacy-app-secret'];
const ALICE = { username: 'alice', password: 'alice-password' };

interface TokenResponse {
  access_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  error?: string;
  error_description?: string;
}

describe('password grant (default fixture)', () => {
  const testbed = useTestbed();
  const token = (form: Record<string, string>, basic: [string, string] = LEGACY) =>
    postForm<TokenResponse>(testbed().urls.token, { grant_type: 'password', ...form }, { basic });

  it('is advertised in discovery', async () => {
    const { body } = await readJson(await fetch(testbed().urls.discovery));
    expect(body.grant_types_supported).toContain('password');
  });

  it('scope openid profile: a JWT for the profile API (the owner of profile), a refresh token and an ID token with her claims', async () => {
    const { status, body } = await token({ ...ALICE, scope: 'openid profile' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'profile',
      refresh_token: expect.any(String),
      id_token: expect.any(String),
    });
    expect(decodeJwt(body.access_token!)).toMatchObject({
      iss: testbed().issuer,
      aud: PROFILE_API,
      sub: 'alice',
      client_id: 'legacy-app',
      scope: 'profile',
    });
    // The access token cannot be used at userinfo, so the ID token carries the profile claims.
    expect(decodeJwt(body.id_token!)).toMatchObject({
      iss: testbed().issuer,
      aud: 'legacy-app',
      sub: 'alice',
      name: 'Alice Example',
      auth_time: expect.any(Number),
    });
    const api = await callApi(new URL('userinfo', testbed().urls.profileApi), { headers: bearer(body.access_token!) });
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ sub: 'alice', name: 'Alice Example' });
  });

  it('scope openid: an opaque userinfo token that works at the userinfo endpoint', async () => {
    const { status, body } = await token({ ...ALICE, scope: 'openid' });
    expect(status).toBe(200);
    expect(body.access_token!.split('.')).toHaveLength(1);
    expect(body.scope).toBe('openid');
    expect(decodeJwt(body.id_token!)).toMatchObject({ sub: 'alice' });
    const userinfo = await readJson(await fetch(testbed().urls.userinfo, { headers: bearer(body.access_token!) }));
    expect(userinfo).toMatchObject({ status: 200, body: { sub: 'alice' } });
  });

  it('with resource: a token for the directory API, accepted there; no ID token without openid', async () => {
    const { status, body } = await token({ ...ALICE, scope: 'fr:idm:*', resource: DIRECTORY_API });
    expect(status).toBe(200);
    expect(body.id_token).toBeUndefined();
    expect(decodeJwt(body.access_token!)).toMatchObject({ aud: DIRECTORY_API, sub: 'alice', scope: 'fr:idm:*' });
    expect((await callApi(new URL('info/login', testbed().urls.directoryApi), { headers: bearer(body.access_token!) })).status).toBe(200);
  });

  it('its refresh token works at the refresh_token grant, and its tokens introspect active', async () => {
    const { body } = await token({ ...ALICE, scope: 'openid profile' });
    const refreshed = await postForm<TokenResponse>(
      testbed().urls.token,
      { grant_type: 'refresh_token', refresh_token: body.refresh_token!, resource: PROFILE_API },
      { basic: LEGACY },
    );
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token!)).toMatchObject({ aud: PROFILE_API, sub: 'alice', scope: 'profile' });
    const introspection = await postForm(testbed().urls.introspection, { token: refreshed.body.access_token! }, { basic: LEGACY });
    expect(introspection.body).toMatchObject({ active: true, sub: 'alice', client_id: 'legacy-app', aud: PROFILE_API });
  });

  it.each([
    ['a wrong password', { username: 'alice', password: 'bob-password' }],
    ['an unknown user', { username: 'mallory', password: 'alice-password' }],
  ])('%s: invalid_grant', async (_case, credentials) => {
    const { status, body } = await token({ ...credentials, scope: 'openid' });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    expect(body.access_token).toBeUndefined();
  });

  it('with a DPoP proof: a DPoP-bound access token (cnf.jkt of the proof key)', async () => {
    const key = await dpopKey();
    const proof = await dpopProof(key, 'POST', testbed().urls.token, '', { claims: { ath: undefined } });
    const { status, body } = await postForm<TokenResponse>(
      testbed().urls.token,
      { grant_type: 'password', ...ALICE, resource: DIRECTORY_API, scope: 'fr:idm:*' },
      { basic: LEGACY, headers: { dpop: proof } },
    );
    expect(status).toBe(200);
    expect(body.token_type).toBe('DPoP');
    expect(decodeJwt(body.access_token!).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
  });

  it('missing username or password: invalid_request', async () => {
    const forms: Array<Record<string, string>> = [{ username: 'alice' }, { password: 'alice-password' }];
    for (const form of forms) {
      const { status, body } = await token(form);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/username|password/) });
    }
  });

  it('an unknown scope: invalid_scope; an unknown resource: invalid_target', async () => {
    expect((await token({ ...ALICE, scope: 'openid admin' })).body.error).toBe('invalid_scope');
    expect((await token({ ...ALICE, scope: 'openid', resource: 'http://localhost:9999/' })).body.error).toBe('invalid_target');
  });

  it('a client not registered for the grant: unauthorized_client (RFC 6749 §5.2), even with the right password', async () => {
    const { status, body } = await token({ ...ALICE, scope: 'openid' }, ['web-app', 'web-app-secret']);
    expect(status).toBe(400);
    expect(body.error).toBe('unauthorized_client');
  });
});

describe('password grant with the feature off', () => {
  const testbed = useTestbed({ fixture: fixturePath('features-off.yaml') });

  it('is not advertised, and the token endpoint answers unsupported_grant_type', async () => {
    const { body: metadata } = await readJson(await fetch(testbed().urls.discovery));
    expect(metadata.grant_types_supported).not.toContain('password');
    const { status, body } = await postForm(testbed().urls.token, { grant_type: 'password', ...ALICE }, { basic: ['web', 'web-secret'] });
    expect(status).toBe(400);
    expect(body.error).toBe('unsupported_grant_type');
  });
});
