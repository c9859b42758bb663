import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { readJson } from '../support/http.ts';
import { ALICE, formAction, postPageForm } from '../support/interactions.ts';
import { authorize, client, discover, signIn } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';
const PROFILE_API = 'http://localhost:9401/';
const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
];

describe('authorization code flow with PKCE and nonce (node-openid-client)', () => {
  const testbed = useTestbed();
  const seedClient = () => discover(testbed(), 'node-openid-client', 'password');

  it('logs alice in headlessly and answers with code, state and the RFC 9207 iss', async () => {
    const config = await seedClient();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid' });
    expect(auth.callbackUrl.origin + auth.callbackUrl.pathname).toBe(REDIRECT_URI);
    expect(auth.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));
    expect(auth.callbackUrl.searchParams.get('state')).toBe(auth.state);
    expect(auth.callbackUrl.searchParams.get('iss')).toBe(testbed().issuer);
  });

  it('exchanges the code for an ID token bound to the nonce, an access token and a refresh token', async () => {
    const config = await seedClient();
    const { auth, tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: testbed().issuer, aud: 'node-openid-client', sub: 'alice', nonce: auth.nonce });
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    // ForgeRock AM behaviour: a refresh token for a client allowed the grant, offline_access or not.
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('checks state: a callback whose state differs from the one sent is rejected by the client', async () => {
    const config = await seedClient();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid' });
    await expect(
      client.authorizationCodeGrant(config, auth.callbackUrl, {
        pkceCodeVerifier: auth.codeVerifier,
        expectedState: client.randomState(),
        expectedNonce: auth.nonce,
      }),
    ).rejects.toMatchObject({ cause: { message: 'unexpected "state" response parameter value' } });
  });

  it('refuses a scope the client is not registered for with an invalid_scope error response', async () => {
    const config = await seedClient();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid phone' });
    expect(auth.callbackUrl.searchParams.get('error')).toBe('invalid_scope');
    expect(auth.callbackUrl.searchParams.get('state')).toBe(auth.state);
    expect(auth.callbackUrl.searchParams.get('iss')).toBe(testbed().issuer);
  });

  it('signs in the user the login_hint names', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile', login_hint: 'bob' });
    expect(tokens.claims()!.sub).toBe('bob');
    expect(await client.fetchUserInfo(config, tokens.access_token, 'bob')).toMatchObject({ sub: 'bob', name: 'Bob Example' });
  });
});

describe('claims per scope', () => {
  const testbed = useTestbed();

  const signInAs = async (
    clientId: string,
    secret: string | undefined,
    redirect_uri: string,
    scope: string,
    tokenParameters: Record<string, string> = {},
    authParameters: Record<string, string> = {},
  ) => {
    const config = await discover(testbed(), clientId, secret);
    const { tokens } = await signIn(config, { redirect_uri, scope, ...authParameters }, tokenParameters);
    return { config, tokens };
  };

  it('openid alone: userinfo holds only sub', async () => {
    const { config, tokens } = await signInAs('node-openid-client', 'password', REDIRECT_URI, 'openid');
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toEqual({ sub: 'alice' });
  });

  it('email scope: userinfo, the ID token and a refreshed ID token have email and email_verified (id_token_claims: scopes)', async () => {
    const { config, tokens } = await signInAs('node-openid-client', 'password', REDIRECT_URI, 'openid email');
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toEqual({
      sub: 'alice',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', email: 'alice@example.com', email_verified: true });
    expect(tokens.claims()).not.toHaveProperty('name');
    expect((await client.refreshTokenGrant(config, tokens.refresh_token!)).claims()).toMatchObject({ email: 'alice@example.com' });
  });

  it('the claims parameter (Core §5.5) adds a claim the scopes do not release, to userinfo or to the ID token', async () => {
    const claims = JSON.stringify({ userinfo: { phone_number: null }, id_token: { locale: null } });
    const { config, tokens } = await signInAs('node-openid-client', 'password', REDIRECT_URI, 'openid', {}, { claims });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toEqual({ sub: 'alice', phone_number: '+1 555 0100' });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', locale: 'en-US' });
    expect(tokens.claims()).not.toHaveProperty('phone_number');
  });

  it('profile scope: userinfo has the profile claims and no email', async () => {
    const { config, tokens } = await signInAs('node-openid-client', 'password', REDIRECT_URI, 'openid profile');
    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(Object.keys(info).sort()).toEqual(['sub', ...PROFILE_CLAIMS].sort());
    expect(info).toMatchObject({
      name: 'Alice Example',
      given_name: 'Alice',
      family_name: 'Example',
      preferred_username: 'alice',
      locale: 'en-US',
    });
  });

  it('address and phone scopes (spa-client, public): userinfo has address and phone claims', async () => {
    const { config, tokens } = await signInAs('spa-client', undefined, 'http://localhost:5173/callback', 'openid address phone');
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toEqual({
      sub: 'alice',
      address: expect.objectContaining({ locality: 'Springfield', country: 'US' }),
      phone_number: '+1 555 0100',
      phone_number_verified: true,
    });
  });

  it('with no userinfo-capable access token (a resource token), the ID token carries the scope claims', async () => {
    const { tokens } = await signInAs(
      'node-openid-client',
      'password',
      REDIRECT_URI,
      'openid profile email',
      { resource: PROFILE_API },
      { resource: PROFILE_API },
    );
    expect(decodeJwt(tokens.access_token).aud).toBe(PROFILE_API);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com', email_verified: true });
  });
});

describe('id_token_claims: strict (OpenID Connect Core §5.4 as oidc-provider reads it)', () => {
  const testbed = useTestbed({
    fixture: {
      issuer: { auto_login: true, id_token_claims: 'strict' },
      users: [
        {
          username: 'alice',
          password: 'alice-password',
          sub: 'alice',
          claims: { name: 'Alice Example', email: 'alice@example.com', email_verified: true },
        },
      ],
      clients: [
        {
          client_id: 'web',
          client_secret: 'web-secret',
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          first_party: true,
        },
      ],
    },
  });

  it('the ID tokens of the code exchange and of a refresh hold no scope claim, userinfo does; discovery says strict', async () => {
    const config = await discover(testbed(), 'web', 'web-secret');
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email' });
    expect(tokens.claims()).toMatchObject({ sub: 'alice' });
    expect(tokens.claims()).not.toHaveProperty('email');
    expect(tokens.claims()).not.toHaveProperty('name');
    expect((await client.refreshTokenGrant(config, tokens.refresh_token!)).claims()).not.toHaveProperty('email');
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toEqual({
      sub: 'alice',
      name: 'Alice Example',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect(config.serverMetadata().oidc_testbed_id_token_claims).toBe('strict');
  });

  it('the claims parameter still puts a claim into the ID token', async () => {
    const config = await discover(testbed(), 'web', 'web-secret');
    const { tokens } = await signIn(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      claims: JSON.stringify({ id_token: { email: null } }),
    });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', email: 'alice@example.com' });
    expect(tokens.claims()).not.toHaveProperty('email_verified');
  });
});

describe('the login and consent pages (auto-login off)', () => {
  const testbed = useTestbed({ autoLogin: false });

  /** Starts a code flow and follows it to the first page the user sees. */
  const start = async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const agent = new UserAgent();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      state,
      login_hint: 'alice',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { url: pageUrl, response } = await agent.follow(url, REDIRECT_URI);
    return { agent, state, pageUrl, html: await response!.text(), status: response!.status };
  };

  it('shows the login form, with login_hint as the username; the JSON login answers redirectTo', async () => {
    const { agent, pageUrl, html, status } = await start();
    expect(status).toBe(200);
    expect(html).toMatch(/<input[^>]*name="username"[^>]*value="alice"/);
    expect(html).toContain('name="password"');
    const wrong = await postPageForm(agent, formAction(html, pageUrl), { username: 'alice', password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_credentials', error_description: 'unknown username or wrong password' });
    const right = await postPageForm(agent, formAction(html, pageUrl), { ...ALICE });
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ redirectTo: expect.stringMatching(new RegExp(`^${testbed().issuer}/auth/`)) });
  });

  it('asks consent for a client that is not first-party; deny answers access_denied to the RP', async () => {
    const { agent, state, pageUrl, html } = await start();
    const login = await postPageForm(agent, formAction(html, pageUrl), { ...ALICE });
    const { url: consentUrl, response } = await agent.follow(((await login.json()) as { redirectTo: string }).redirectTo, REDIRECT_URI);
    const consent = await response!.text();
    expect(consent).toContain('Authorize node-openid-client sample');
    expect(consent).toContain('<code>email</code>');
    const denied = await postPageForm(agent, formAction(consent, consentUrl), { decision: 'deny' });
    const { url: callback } = await agent.follow(((await denied.json()) as { redirectTo: string }).redirectTo, REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(testbed().issuer);
  });

  it('signs in through the plain HTML form POSTs too (303 redirects, as a browser follows them)', async () => {
    const { agent, state, pageUrl, html } = await start();
    const login = await postPageForm(agent, formAction(html, pageUrl), { ...ALICE }, 'text/html');
    expect(login.status).toBe(303);
    const { url: consentUrl, response } = await agent.follow(new URL(login.headers.get('location')!, pageUrl), REDIRECT_URI);
    const allowed = await postPageForm(agent, formAction(await response!.text(), consentUrl), { decision: 'allow' }, 'text/html');
    expect(allowed.status).toBe(303);
    const { url: callback } = await agent.follow(new URL(allowed.headers.get('location')!, consentUrl), REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('refuses a login POST from another browser (no interaction cookie) with 400', async () => {
    const { pageUrl, html } = await start();
    const { status, body } = await readJson(await postPageForm(new UserAgent(), formAction(html, pageUrl), { ...ALICE }));
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
  });
});
