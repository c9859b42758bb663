/**
 * Dynamic client registration (RFC 7591) with openid-client 6, and client management (RFC 7592):
 * read, update and delete with the registration access token. Registered clients follow the
 * testbed's policy for clients the fixture does not name: PKCE required, not first-party, every
 * fixture resource, auto-login as the issuer says.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { ALICE, walkInteractions } from '../support/interactions.ts';
import { client, signIn } from '../support/openid.ts';
import { CODE_CLIENT_METADATA, REGISTERED_REDIRECT_URI, register, registrationRequest, updateBody } from '../support/registration.ts';
import { bearer, callApi, PROFILE_API } from '../support/resource-servers.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

const OTHER_REDIRECT_URI = 'http://localhost:4000/other-callback';

/** The registration response fields openid-client keeps in the client metadata. */
function registration(config: client.Configuration) {
  const metadata = config.clientMetadata();
  return {
    clientId: metadata.client_id,
    clientSecret: metadata.client_secret as string,
    token: metadata.registration_access_token as string,
    uri: metadata.registration_client_uri as string,
  };
}

describe('open registration (the default fixture)', () => {
  const testbed = useTestbed();

  it('registers a client (201) that then completes a code flow with PKCE, auto-login and a refresh token', async () => {
    const config = await register(testbed().issuer);
    const { clientId, clientSecret, token, uri } = registration(config);
    expect(clientId).toEqual(expect.any(String));
    expect(clientSecret).toEqual(expect.any(String));
    expect(token).toEqual(expect.any(String));
    expect(uri).toBe(`${testbed().urls.registration}/${clientId}`);
    expect(config.clientMetadata()).toMatchObject({
      client_id_issued_at: expect.any(Number),
      client_secret_expires_at: 0,
      redirect_uris: [REGISTERED_REDIRECT_URI],
    });

    const { tokens } = await signIn(config, { redirect_uri: REGISTERED_REDIRECT_URI, scope: 'openid profile' });
    expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, aud: clientId, sub: 'alice' });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ sub: 'alice', name: 'Alice Example' });
  });

  it('registers a private_key_jwt client with its public keys (jwks), which then authenticates with a signed assertion', async () => {
    const { privateKey: key, publicKey } = await generateKeyPair('ES256');
    const kid = 'registered-rp';
    const config = await client.dynamicClientRegistration(
      new URL(testbed().issuer),
      {
        ...CODE_CLIENT_METADATA,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
      },
      client.PrivateKeyJwt({ key, kid }),
      { execute: [client.allowInsecureRequests] },
    );
    expect(config.clientMetadata()).not.toHaveProperty('client_secret');
    const { tokens } = await signIn(config, { redirect_uri: REGISTERED_REDIRECT_URI, scope: 'openid' });
    expect(tokens.claims()).toMatchObject({ aud: registration(config).clientId, sub: 'alice' });
  });

  it('gives a registered client tokens for the fixture resources: the profile API accepts its access token', async () => {
    const config = await register(testbed().issuer);
    const { tokens } = await signIn(
      config,
      { redirect_uri: REGISTERED_REDIRECT_URI, scope: 'openid profile', resource: PROFILE_API },
      { resource: PROFILE_API },
    );
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: PROFILE_API, client_id: registration(config).clientId, scope: 'profile' });
    const api = await callApi(new URL('userinfo', testbed().urls.profileApi), { headers: bearer(tokens.access_token) });
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ sub: 'alice', name: 'Alice Example' });
  });

  it('requires PKCE from a registered confidential client (the engine alone would not)', async () => {
    const config = await register(testbed().issuer);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REGISTERED_REDIRECT_URI,
      scope: 'openid',
      state: client.randomState(),
      login_hint: 'alice',
    });
    const { url: callback } = await new UserAgent().follow(url, REGISTERED_REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('treats a registered client as third-party: without a login_hint the user logs in, then consents; testbed-only metadata is ignored', async () => {
    const config = await register(testbed().issuer, { ...CODE_CLIENT_METADATA, first_party: true, auto_login: false });
    expect(config.clientMetadata()).not.toHaveProperty('first_party');
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REGISTERED_REDIRECT_URI,
      scope: 'openid profile',
      state: client.randomState(),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    const walk = await walkInteractions(new UserAgent(), url, ALICE, REGISTERED_REDIRECT_URI);
    expect(walk.steps).toEqual(['login', 'consent']);
    expect(walk.url.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('answers invalid_redirect_uri (400, RFC 7591 §3.2.2) for a redirect URI that is not a URI or has a fragment', async () => {
    for (const redirectUri of ['not a uri', `${REGISTERED_REDIRECT_URI}#fragment`]) {
      const { status, body } = await registrationRequest(testbed().urls.registration, 'POST', { body: { redirect_uris: [redirectUri] } });
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.any(String) });
    }
    await expect(register(testbed().issuer, { redirect_uris: ['not a uri'] })).rejects.toMatchObject({
      error: 'invalid_redirect_uri',
      status: 400,
    });
  });

  it('answers invalid_client_metadata (400) for metadata it cannot accept', async () => {
    const invalid = [
      { redirect_uris: [REGISTERED_REDIRECT_URI], token_endpoint_auth_method: 'magic' },
      { redirect_uris: [REGISTERED_REDIRECT_URI], jwks_uri: 'http://localhost:4000/jwks', jwks: { keys: [] } },
      { redirect_uris: [REGISTERED_REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code token'] },
    ];
    for (const metadata of invalid) {
      const { status, body } = await registrationRequest(testbed().urls.registration, 'POST', { body: metadata });
      expect({ metadata, status, error: body.error }).toEqual({ metadata, status: 400, error: 'invalid_client_metadata' });
    }
  });

  it('answers invalid_request (400) for a body that is not a JSON object', async () => {
    const { status, body } = await registrationRequest(testbed().urls.registration, 'POST', { body: ['redirect_uris'] });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
  });

  describe('management (RFC 7592)', () => {
    it("reads the client's registration with its registration access token", async () => {
      const { clientId, clientSecret, token, uri } = registration(await register(testbed().issuer));
      const { status, headers, body } = await registrationRequest(uri, 'GET', { token });
      expect(status).toBe(200);
      expect(headers.get('cache-control')).toBe('no-store');
      expect(body).toMatchObject({
        client_id: clientId,
        client_secret: clientSecret,
        registration_access_token: token,
        registration_client_uri: uri,
        redirect_uris: [REGISTERED_REDIRECT_URI],
      });
    });

    it("refuses a request without a token (401, a bare Bearer challenge) and one with another client's token (401 invalid_token)", async () => {
      const { uri } = registration(await register(testbed().issuer));
      const other = registration(await register(testbed().issuer));

      const missing = await registrationRequest(uri, 'GET');
      expect(missing.status).toBe(401);
      expect(missing.body.error).toBe('invalid_token');
      // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
      expect(missing.challenge).toBe(`Bearer realm="${testbed().issuer}"`);

      const foreign = await registrationRequest(uri, 'GET', { token: other.token });
      expect(foreign.status).toBe(401);
      expect(foreign.body.error).toBe('invalid_token');
      expect(foreign.challenge).toContain('error="invalid_token"');
    });

    it('updates the client with PUT (full metadata), rotating the registration access token', async () => {
      const config = await register(testbed().issuer);
      const { clientId, token, uri } = registration(config);
      const current = (await registrationRequest(uri, 'GET', { token })).body;

      const updated = await registrationRequest(uri, 'PUT', {
        token,
        body: updateBody(current, { client_name: 'Renamed', redirect_uris: [OTHER_REDIRECT_URI] }),
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ client_id: clientId, client_name: 'Renamed', redirect_uris: [OTHER_REDIRECT_URI] });
      const rotated = updated.body.registration_access_token as string;
      expect(rotated).toEqual(expect.any(String));
      expect(rotated).not.toBe(token);
      expect((await registrationRequest(uri, 'GET', { token })).status).toBe(401);
      expect((await registrationRequest(uri, 'GET', { token: rotated })).body).toMatchObject({ client_name: 'Renamed' });

      // The client secret is kept: the same openid-client configuration signs in at the new redirect URI.
      const { tokens } = await signIn(config, { redirect_uri: OTHER_REDIRECT_URI, scope: 'openid' });
      expect(tokens.claims()).toMatchObject({ aud: clientId, sub: 'alice' });
    });

    it('refuses an update that changes client_id (invalid_request) or carries an invalid redirect URI (invalid_redirect_uri)', async () => {
      const { token, uri } = registration(await register(testbed().issuer));
      const current = (await registrationRequest(uri, 'GET', { token })).body;

      const renamed = await registrationRequest(uri, 'PUT', { token, body: updateBody(current, { client_id: 'someone-else' }) });
      expect(renamed.status).toBe(400);
      expect(renamed.body.error).toBe('invalid_request');

      const badRedirect = await registrationRequest(uri, 'PUT', { token, body: updateBody(current, { redirect_uris: ['not a uri'] }) });
      expect(badRedirect.status).toBe(400);
      expect(badRedirect.body.error).toBe('invalid_redirect_uri');
    });

    it('deletes the client (204): its registration, its credentials and its tokens are gone', async () => {
      const config = await register(testbed().issuer);
      const { token, uri } = registration(config);
      const { tokens } = await signIn(config, { redirect_uri: REGISTERED_REDIRECT_URI, scope: 'openid' });

      const deleted = await registrationRequest(uri, 'DELETE', { token });
      expect(deleted.status).toBe(204);

      expect((await registrationRequest(uri, 'GET', { token })).status).toBe(401);
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
      await expect(client.fetchUserInfo(config, tokens.access_token, 'alice')).rejects.toMatchObject({ status: 401 });
    });
  });

  it('advertises the registration endpoint', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBe(testbed().urls.registration);
  });
});

describe('registration with an initial access token (RFC 7591 §3)', () => {
  const testbed = useTestbed({ fixture: fixturePath('registration-iat.yaml') });
  const INITIAL_ACCESS_TOKEN = 'test-initial-access-token';

  it('refuses a registration without the token: 401 invalid_token, a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const { status, body, challenge } = await registrationRequest(testbed().urls.registration, 'POST', { body: CODE_CLIENT_METADATA });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_token');
    expect(challenge).toBe(`Bearer realm="${testbed().issuer}"`);
  });

  it('refuses a registration with a wrong token: 401 invalid_token, named in the challenge', async () => {
    const { status, body, challenge } = await registrationRequest(testbed().urls.registration, 'POST', {
      body: CODE_CLIENT_METADATA,
      token: 'not-the-token',
    });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_token');
    expect(challenge).toContain('error="invalid_token"');
    await expect(register(testbed().issuer, CODE_CLIENT_METADATA, 'not-the-token')).rejects.toMatchObject({ status: 401 });
  });

  it('registers with the token (201), and the client signs in', async () => {
    const raw = await registrationRequest(testbed().urls.registration, 'POST', { body: CODE_CLIENT_METADATA, token: INITIAL_ACCESS_TOKEN });
    expect(raw.status).toBe(201);
    const config = await register(testbed().issuer, CODE_CLIENT_METADATA, INITIAL_ACCESS_TOKEN);
    const { tokens } = await signIn(config, { redirect_uri: REGISTERED_REDIRECT_URI, scope: 'openid' });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: registration(config).clientId });
  });

  it('with management off, a client can read its registration but not update or delete it', async () => {
    const { token, uri } = registration(await register(testbed().issuer, CODE_CLIENT_METADATA, INITIAL_ACCESS_TOKEN));
    const read = await registrationRequest(uri, 'GET', { token });
    expect(read.status).toBe(200);
    for (const method of ['PUT', 'DELETE'] as const) {
      const response = await fetch(uri, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: method === 'PUT' ? JSON.stringify(updateBody(read.body, {})) : undefined,
      });
      expect({ method, status: response.status }).toEqual({ method, status: 404 });
    }
    expect((await registrationRequest(uri, 'GET', { token })).status).toBe(200);
  });
});

describe('registration off (the schema default)', () => {
  const testbed = useTestbed({ fixture: fixturePath('features-off.yaml') });

  it('neither advertises nor serves a registration endpoint', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty('registration_endpoint');
    const response = await fetch(testbed().urls.registration, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(CODE_CLIENT_METADATA),
    });
    expect(response.status).toBe(404);
  });
});
