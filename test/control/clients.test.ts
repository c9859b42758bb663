/**
 * `<issuer>/_testbed/clients/<client_id>` and `issuer.clients`: a client put at run time is used by
 * openid-client as a fixture client would be, with the testbed's own fields in force; removed, it is
 * refused; bad entries are 400s naming the field, fixture and registered clients 409s.
 */
import { describe, expect, it } from '@jest/globals';
import { ClientChangeError, type ClientEntryInput } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { controlCall, type JsonResponse, postForm, readJson } from '../support/http.ts';
import { ALICE, walkInteractions } from '../support/interactions.ts';
import { authorizationError, client, codeRequest, discover, signIn } from '../support/openid.ts';
import { register } from '../support/registration.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:4100/callback';

/** A confidential code-flow client with testbed-only fields. */
const ENTRY = {
  client_secret: 'run-time-secret',
  client_name: 'Put at run time',
  token_endpoint_auth_method: 'client_secret_basic' as const,
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  response_types: ['code'],
  scope: 'openid profile offline_access',
  first_party: true,
  access_token_ttl: 123,
};

describe('clients at run time', () => {
  const testbed = useTestbed({ apis: false });
  const url = (clientId = '') => `${testbed().issuer}/_testbed/clients${clientId ? `/${encodeURIComponent(clientId)}` : ''}`;
  const put = async (clientId: string, body: unknown, type = 'application/json'): Promise<JsonResponse> => {
    const answer = await controlCall('PUT', url(clientId), body, { type });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return answer;
  };
  const remove = (clientId: string) => fetch(url(clientId), { method: 'DELETE' });
  const clientCredentials = (clientId: string, secret: string) =>
    postForm(testbed().urls.token, { grant_type: 'client_credentials' }, { basic: [clientId, secret] });

  it('PUT then a full code flow with openid-client: first_party skips consent, access_token_ttl is the expires_in', async () => {
    const created = await put('rt-web', ENTRY);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...ENTRY, client_id: 'rt-web' });

    const read = await readJson(await fetch(url('rt-web')));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const config = await discover(testbed(), 'rt-web', ENTRY.client_secret);
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile' });
    expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, aud: 'rt-web', sub: 'alice' });
    expect(tokens.expires_in).toBe(123);
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ name: 'Alice Example' });
  });

  it('PUT again replaces the client at once: auto_login and first_party decide the pages, the TTL the expires_in', async () => {
    const signInThroughPages = async (config: client.Configuration) => {
      const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI, { scope: 'openid' });
      const walk = await walkInteractions(new UserAgent(), client.buildAuthorizationUrl(config, parameters), ALICE, REDIRECT_URI);
      const tokens = await client.authorizationCodeGrant(config, walk.url, {
        pkceCodeVerifier: codeVerifier,
        expectedState: parameters.state,
        expectedNonce: parameters.nonce,
      });
      return { steps: walk.steps, tokens };
    };
    expect((await put('rt-replaced', { ...ENTRY, auto_login: false })).status).toBe(201);
    const config = await discover(testbed(), 'rt-replaced', ENTRY.client_secret);
    // No auto-login for this client (the issuer has it on): the login page; first party: no consent page.
    const first = await signInThroughPages(config);
    expect(first.steps).toEqual(['login']);
    expect(first.tokens.expires_in).toBe(123);

    const { first_party: _firstParty, access_token_ttl: _ttl, ...plain } = ENTRY;
    const replaced = await put('rt-replaced', { ...plain, auto_login: false });
    expect(replaced.status).toBe(200);
    expect(replaced.body).not.toHaveProperty('first_party');
    const second = await signInThroughPages(config);
    expect(second.steps).toEqual(['login', 'consent']);
    expect(second.tokens.expires_in).toBe(3600);

    // A new secret: the old one is refused from the next request on.
    expect((await put('rt-replaced', { ...plain, client_secret: 'another-secret' })).status).toBe(200);
    expect((await clientCredentials('rt-replaced', ENTRY.client_secret)).body.error).toBe('invalid_client');
    expect((await clientCredentials('rt-replaced', 'another-secret')).status).toBe(200);
  });

  it('DELETE: 204, then the client is refused (invalid_client) and its grants stay revoked when it is put again', async () => {
    expect((await put('rt-gone', ENTRY)).status).toBe(201);
    const config = await discover(testbed(), 'rt-gone', ENTRY.client_secret);
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid offline_access' });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const deleted = await remove('rt-gone');
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('cache-control')).toBe('no-store');

    const refused = await clientCredentials('rt-gone', ENTRY.client_secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    const { parameters } = await codeRequest(REDIRECT_URI, { client_id: 'rt-gone', response_type: 'code' });
    expect((await authorizationError(`${testbed().urls.authorization}?${new URLSearchParams(parameters)}`)).error).toBe('invalid_client');
    expect((await readJson(await fetch(url('rt-gone')))).body).toMatchObject({ error: 'not_found' });
    expect((await readJson(await remove('rt-gone'))).body).toMatchObject({
      error: 'not_found',
      error_description: 'no run-time client "rt-gone"',
    });

    expect((await put('rt-gone', ENTRY)).status).toBe(201);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lists fixture, run-time and registered clients with their source and no secret', async () => {
    expect((await put('rt-listed', ENTRY)).status).toBe(201);
    const registered = (await register(testbed().issuer)).clientMetadata().client_id;
    const answer = await fetch(url());
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const text = await answer.text();
    const { clients } = JSON.parse(text) as { clients: Array<{ client_id: string; source: string }> };
    const sourceOf = (id: string) => clients.find((listed) => listed.client_id === id)?.source;
    expect(sourceOf('web-app')).toBe('fixture');
    expect(sourceOf('profile-api')).toBe('fixture');
    expect(sourceOf('rt-listed')).toBe('run-time');
    expect(sourceOf(registered)).toBe('registration');
    expect(clients.find((listed) => listed.client_id === 'rt-listed')).toMatchObject({ first_party: true, access_token_ttl: 123 });
    for (const secret of [ENTRY.client_secret, 'web-app-secret', 'profile-api-secret']) expect(text).not.toContain(secret);
    expect(text).not.toContain('"client_secret":');

    // One client's entry shows its secret (the caller passed the control lock); a fixture client's too.
    expect((await readJson(await fetch(url('web-app')))).body).toMatchObject({ client_id: 'web-app', client_secret: 'web-app-secret' });
    const conflict = await put(registered, ENTRY);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error_description).toMatch(/registered dynamically \(RFC 7591\)/);
  });

  it('refuses to shadow a fixture client: PUT and DELETE answer 409 naming why', async () => {
    for (const [id, where] of [
      ['web-app', /fixture client \(clients\[\d+\]\)/],
      ['profile-api', /fixture client \(resources\[0\]\.introspection_client\)/],
    ] as const) {
      const answer = await put(id, ENTRY);
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ error: 'conflict', error_description: expect.stringMatching(where) });
    }
    expect((await readJson(await remove('web-app'))).status).toBe(409);
    expect((await clientCredentials('web-app', 'web-app-secret')).status).not.toBe(401); // still the fixture's
  });

  it('answers bad input with 400 invalid_request naming the field, never a 500', async () => {
    const cases: Array<[body: unknown, description: RegExp, type?: string]> = [
      ['{"client_secret": ', /not valid JSON/],
      ['[]', /must be a JSON object/],
      [
        'client_secret=x',
        /^the body must be a JSON object \(Content-Type: application\/json\): send a fixture client entry$/,
        'application/x-www-form-urlencoded',
      ],
      [{ ...ENTRY, redirect_uri: REDIRECT_URI }, /^redirect_uri: unknown field/],
      [{ ...ENTRY, first_party: 'yes' }, /^first_party: must be a boolean$/],
      [{ ...ENTRY, access_token_ttl: -5 }, /^access_token_ttl: /],
      [{ ...ENTRY, redirect_uris: ['not a url'] }, /^redirect_uris\[0\]: must be an absolute URL/],
      [{ ...ENTRY, redirect_uris: 'http://localhost:4100/callback' }, /^redirect_uris: must be an array$/],
      [{ ...ENTRY, redirect_uris: ['http://localhost:4100/callback#fragment'] }, /oidc-provider refuses this client: redirect_uris/],
      [{ ...ENTRY, client_secret: undefined }, /^client_secret: is required for token_endpoint_auth_method client_secret_basic/],
      [{ ...ENTRY, token_endpoint_auth_method: 'magic' }, /^token_endpoint_auth_method: must be one of/],
      [{ ...ENTRY, allowed_resources: ['http://localhost:9999/'] }, /^allowed_resources\[0\]: "http:\/\/localhost:9999\/" is not declared/],
      [{ ...ENTRY, client_id: 'another-id' }, /^client_id: must be "rt-bad", the client_id of the path/],
    ];
    for (const [body, description, type] of cases) {
      const answer = await put('rt-bad', body, type);
      expect({ body, status: answer.status, answer: answer.body }).toEqual({
        body,
        status: 400,
        answer: { error: 'invalid_request', error_description: expect.stringMatching(description) },
      });
    }
    expect((await readJson(await fetch(url('rt-bad')))).status).toBe(404);

    // Validated against the issuer it is put on: the fapi2 issuer's profile rules.
    const fapi2 = await controlCall('PUT', `${testbed().issuer}/fapi2/_testbed/clients/rt-fapi2`, ENTRY);
    expect(fapi2).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: expect.stringMatching(/^token_endpoint_auth_method: the fapi2 profile allows only private_key_jwt/),
      },
    });
  });

  it('the same operations on issuer.clients: put, get, list, remove, reset', async () => {
    const { clients } = testbed().main;
    const { client: stored, replaced } = await clients.put('lib-client', {
      client_secret: 'lib-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      access_token_ttl: 77,
    });
    expect(replaced).toBe(false);
    expect(stored).toMatchObject({ client_id: 'lib-client', access_token_ttl: 77 });
    expect(await clients.get('lib-client')).toEqual(stored);
    expect(clients.policyOf('lib-client')).toMatchObject({ accessTokenTTL: 77, firstParty: false });
    expect(clients.policyOf('web-app')).toMatchObject({ firstParty: true });
    expect(clients.sourceOf('web-app')).toEqual(['clients', expect.any(Number)]);
    expect((await clients.list()).find((listed) => listed.client_id === 'lib-client')).toMatchObject({ source: 'run-time' });

    const config = await discover(testbed(), 'lib-client', 'lib-secret');
    expect((await client.clientCredentialsGrant(config)).expires_in).toBe(77);

    await expect(clients.put('web-app', {})).rejects.toMatchObject({ status: 409, error: 'conflict' });
    await expect(clients.put('lib-bad', { first_party: 1 } as unknown as ClientEntryInput)).rejects.toThrow(
      /^first_party: must be a boolean$/,
    );
    await expect(clients.put('lib-bad', { first_party: 1 } as unknown as ClientEntryInput)).rejects.toBeInstanceOf(ClientChangeError);

    await clients.remove('lib-client');
    expect(await clients.get('lib-client')).toBeUndefined();
    expect((await clientCredentials('lib-client', 'lib-secret')).body.error).toBe('invalid_client');
    await expect(clients.remove('lib-client')).rejects.toMatchObject({ status: 404, error: 'not_found' });

    await clients.put('lib-one', {
      client_secret: 'one-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    });
    expect((await put('lib-two', ENTRY)).status).toBe(201);
    await clients.reset();
    expect((await clients.list()).filter((listed) => listed.source === 'run-time')).toEqual([]);
    expect((await clientCredentials('lib-one', 'one-secret')).body.error).toBe('invalid_client');
    expect((await clientCredentials('lib-two', ENTRY.client_secret)).body.error).toBe('invalid_client');
    expect((await clientCredentials('web-app', 'web-app-secret')).status).not.toBe(401);
  });

  it('unknown client ids answer 404 not_found', async () => {
    const answer = await readJson(await fetch(url('no-such-client')));
    expect(answer).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'no client "no-such-client"' } });
  });
});
