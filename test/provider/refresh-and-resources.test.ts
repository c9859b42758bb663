import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { postForm, readJson } from '../support/http.ts';
import { authorize, client, codeRequest, discover, signIn } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';
const PROFILE_API = 'http://localhost:9401/';
const DIRECTORY_API = 'http://localhost:9402/openidm/';
const ALL_SCOPES = 'openid profile email offline_access fr:idm:*';

const scopesOf = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean).sort();

describe('refresh tokens (node-openid-client)', () => {
  const testbed = useTestbed();
  const seedClient = () => discover(testbed(), 'node-openid-client', 'password');
  const refreshRaw = (refreshToken: string, extra: Record<string, string> = {}) =>
    postForm(
      testbed().urls.token,
      { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
      { basic: ['node-openid-client', 'password'] },
    );

  it('rotates: every refresh answers a new refresh token, and the new one works', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile' });
    const first = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const second = await client.refreshTokenGrant(config, first.refresh_token!);
    expect(new Set([tokens.refresh_token, first.refresh_token, second.refresh_token]).size).toBe(3);
    expect(second.claims()).toMatchObject({ sub: 'alice', aud: 'node-openid-client' });
    expect(await client.fetchUserInfo(config, second.access_token, 'alice')).toMatchObject({ name: 'Alice Example' });
  });

  it('detects reuse: a rotated refresh token answers invalid_grant and revokes the whole grant', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: ALL_SCOPES });
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
    expect((await client.tokenIntrospection(config, rotated.access_token)).active).toBe(true);

    const reuse = await refreshRaw(tokens.refresh_token!);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');

    expect((await client.tokenIntrospection(config, rotated.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(config, rotated.refresh_token!)).active).toBe(false);
    const next = await refreshRaw(rotated.refresh_token!);
    expect(next.status).toBe(400);
    expect(next.body.error).toBe('invalid_grant');
  });

  it.each([
    ['an unknown resource', 'http://localhost:9999/unknown/'],
    ['a resource that was not granted', PROFILE_API],
  ])('answers invalid_target for %s and does not burn the refresh token', async (_case, resource) => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid fr:idm:*' });

    const refused = await refreshRaw(tokens.refresh_token!, { resource });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!, { resource })).rejects.toMatchObject({ error: 'invalid_target' });

    const retried = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: DIRECTORY_API });
    expect(decodeJwt(retried.access_token).aud).toBe(DIRECTORY_API);
    expect(retried.refresh_token).toEqual(expect.any(String));
    expect((await client.tokenIntrospection(config, retried.access_token)).active).toBe(true);
  });

  it('issues a refresh token without offline_access to a client allowed the refresh_token grant', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid email' });
    expect(scopesOf(tokens.scope)).toEqual(['email', 'openid']);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect((await client.refreshTokenGrant(config, tokens.refresh_token!)).access_token).toEqual(expect.any(String));
  });

  it('issues no refresh token to a client without the refresh_token grant', async () => {
    const config = await discover(
      testbed(),
      'service-client',
      'service-client-secret',
      {},
      client.ClientSecretBasic('service-client-secret'),
    );
    const tokens = await client.clientCredentialsGrant(config, { resource: PROFILE_API, scope: 'profile' });
    expect(tokens.refresh_token).toBeUndefined();
  });
});

describe('resource indicators (RFC 8707): one refresh token, one audience per access token', () => {
  const testbed = useTestbed();
  const seedClient = () => discover(testbed(), 'node-openid-client', 'password');

  it('mints a token for resource A and then for resource B from the same refresh token lineage', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: ALL_SCOPES });

    const forA = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
    const a = decodeJwt(forA.access_token);
    expect(a).toMatchObject({ iss: testbed().issuer, aud: PROFILE_API, sub: 'alice', client_id: 'node-openid-client' });
    expect(scopesOf(a.scope as string)).toEqual(['email', 'profile']);
    expect(scopesOf(forA.scope)).toEqual(['email', 'profile']);

    const forB = await client.refreshTokenGrant(config, forA.refresh_token!, { resource: DIRECTORY_API });
    const b = decodeJwt(forB.access_token);
    expect(b).toMatchObject({ aud: DIRECTORY_API, sub: 'alice', client_id: 'node-openid-client' });
    expect(scopesOf(b.scope as string)).toEqual(['fr:idm:*']);
    expect(scopesOf(forB.scope)).toEqual(['fr:idm:*']);
  });

  it('answers the scope-only request (scope=fr:idm:*, no resource) with a token for the directory API', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: ALL_SCOPES });
    const directory = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'fr:idm:*' });
    const claims = decodeJwt(directory.access_token);
    expect(claims.aud).toBe(DIRECTORY_API);
    expect(claims.scope).toBe('fr:idm:*');

    const profile = await client.refreshTokenGrant(config, directory.refresh_token!, { scope: 'profile' });
    expect(decodeJwt(profile.access_token)).toMatchObject({ aud: PROFILE_API, scope: 'profile' });
  });

  it('without resource or resource scope, refresh answers the opaque userinfo token', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: ALL_SCOPES });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token.split('.')).toHaveLength(1);
    expect(await client.fetchUserInfo(config, refreshed.access_token, 'alice')).toMatchObject({ email: 'alice@example.com' });
  });

  it('accepts several resource parameters at authorization and grants each its own scopes', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(
      config,
      { redirect_uri: REDIRECT_URI, scope: 'openid profile fr:idm:*', resource: [PROFILE_API, DIRECTORY_API] },
      { resource: DIRECTORY_API },
    );
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: DIRECTORY_API, scope: 'fr:idm:*' });
    const forA = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API });
    expect(decodeJwt(forA.access_token)).toMatchObject({ aud: PROFILE_API, scope: 'profile' });
  });

  it('answers invalid_target at authorization for an unknown resource', async () => {
    const config = await seedClient();
    const auth = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid', resource: 'http://localhost:9999/nothing/' });
    expect(auth.callbackUrl.searchParams.get('error')).toBe('invalid_target');
    expect(auth.callbackUrl.searchParams.get('iss')).toBe(testbed().issuer);
  });
});

describe("the one resource an authorization request names (resource or Auth0's audience) is the default target", () => {
  const testbed = useTestbed();
  const seedClient = () => discover(testbed(), 'node-openid-client', 'password');
  const isOpaque = (token: string) => token.split('.').length === 1;
  /** The code exchange of a request sent through PAR (RFC 9126), so the engine sees it twice. */
  const signInWithPar = async (config: client.Configuration, extra: Record<string, string>) => {
    const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI, extra);
    const { url: callbackUrl } = await new UserAgent().follow(await client.buildAuthorizationUrlWithPAR(config, parameters), REDIRECT_URI);
    return client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: codeVerifier,
      expectedState: parameters.state,
      expectedNonce: parameters.nonce,
    });
  };

  it.each([
    ['audience', { audience: DIRECTORY_API }],
    ['a single resource (oidc-client-ts)', { resource: DIRECTORY_API }],
  ])(
    'named by %s: the code exchange and a refresh without resource get JWTs for it; a refresh for OpenID scopes only, the userinfo token',
    async (_case, named) => {
      const config = await seedClient();
      const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile fr:idm:*', ...named });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: DIRECTORY_API, scope: 'fr:idm:*', sub: 'alice' });
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: DIRECTORY_API, scope: 'fr:idm:*' });
      const userinfo = await client.refreshTokenGrant(config, refreshed.refresh_token!, { scope: 'openid profile' });
      expect(isOpaque(userinfo.access_token)).toBe(true);
      expect(await client.fetchUserInfo(config, userinfo.access_token, 'alice')).toMatchObject({ name: 'Alice Example' });
    },
  );

  it('through PAR too; a resource chosen by the scope (none named) still gives the userinfo token', async () => {
    const config = await seedClient();
    expect(decodeJwt((await signInWithPar(config, { scope: 'openid fr:idm:*', audience: DIRECTORY_API })).access_token).aud).toBe(
      DIRECTORY_API,
    );
    expect(decodeJwt((await signInWithPar(config, { scope: 'openid fr:idm:*', resource: DIRECTORY_API })).access_token).aud).toBe(
      DIRECTORY_API,
    );
    expect(isOpaque((await signInWithPar(config, { scope: 'openid fr:idm:*' })).access_token)).toBe(true);
    expect(isOpaque((await signIn(config, { redirect_uri: REDIRECT_URI, scope: 'openid fr:idm:*' })).tokens.access_token)).toBe(true);
  });

  it('audience at the token endpoint: a refresh and client credentials get the token for it', async () => {
    const config = await seedClient();
    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: ALL_SCOPES });
    const profile = decodeJwt((await client.refreshTokenGrant(config, tokens.refresh_token!, { audience: PROFILE_API })).access_token);
    expect(profile.aud).toBe(PROFILE_API);
    expect(scopesOf(profile.scope as string)).toEqual(['email', 'profile']);
    const service = await postForm(
      testbed().urls.token,
      { grant_type: 'client_credentials', audience: DIRECTORY_API, scope: 'fr:idm:*' },
      { basic: ['service-client', 'service-client-secret'] },
    );
    expect(service.status).toBe(200);
    expect(decodeJwt(service.body.access_token as string)).toMatchObject({ aud: DIRECTORY_API, scope: 'fr:idm:*' });
  });

  it('audience and resource naming different resources, or an unknown audience, is invalid_target', async () => {
    const config = await seedClient();
    const both = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid', audience: PROFILE_API, resource: DIRECTORY_API });
    expect(both.callbackUrl.searchParams.get('error')).toBe('invalid_target');
    const unknown = await authorize(config, { redirect_uri: REDIRECT_URI, scope: 'openid', audience: 'https://api.example.com/unknown' });
    expect(unknown.callbackUrl.searchParams.get('error')).toBe('invalid_target');
    const same = await authorize(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid fr:idm:*',
      audience: DIRECTORY_API,
      resource: DIRECTORY_API,
    });
    expect(same.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));

    const { tokens } = await signIn(config, { redirect_uri: REDIRECT_URI, scope: ALL_SCOPES });
    const conflict = await refreshRawAs(tokens.refresh_token!, { audience: PROFILE_API, resource: DIRECTORY_API });
    expect(conflict.status).toBe(400);
    expect(conflict.body).toEqual({ error: 'invalid_target', error_description: expect.stringMatching(/name different resources/) });
    expect((await refreshRawAs(tokens.refresh_token!, { audience: 'https://api.example.com/unknown' })).body.error).toBe('invalid_target');
  });

  const refreshRawAs = (refreshToken: string, extra: Record<string, string>) =>
    postForm(
      testbed().urls.token,
      { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
      { basic: ['node-openid-client', 'password'] },
    );

  it('discovery says audience is accepted', async () => {
    const discovery = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(discovery.oidc_testbed_audience_parameter_supported).toBe(true);
  });
});

describe("audience: a resource's `audience` value names it", () => {
  const PRODUCTS = 'http://localhost:9405/products/';
  const testbed = useTestbed({
    fixture: {
      resources: [{ indicator: PRODUCTS, name: 'products', audience: 'https://api.example.com/products', scopes: ['read:products'] }],
      clients: [
        {
          client_id: 'service',
          client_secret: 'service-secret',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
        },
      ],
    },
  });

  it('client credentials with audience=<its audience> gets a JWT with that aud', async () => {
    const { status, body } = await postForm(
      testbed().urls.token,
      { grant_type: 'client_credentials', audience: 'https://api.example.com/products', scope: 'read:products' },
      { basic: ['service', 'service-secret'] },
    );
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token as string)).toMatchObject({ aud: 'https://api.example.com/products', scope: 'read:products' });
  });
});

describe("a resource that lists openid among its scopes is also for UserInfo (Auth0's API tokens)", () => {
  const PRODUCTS = 'https://api.example.com/products';
  const REPORTS = 'http://localhost:9406/reports/';
  const WEB = 'http://localhost:3000/callback';
  const testbed = useTestbed({
    fixture: {
      issuer: { auto_login: true },
      users: [
        {
          username: 'alice',
          password: 'alice-password',
          sub: 'alice',
          claims: { name: 'Alice Example', email: 'alice@example.com', email_verified: true },
        },
      ],
      resources: [
        { indicator: PRODUCTS, name: 'products', scopes: ['openid', 'read:products'], signing_alg: 'RS256' },
        { indicator: REPORTS, name: 'reports', scopes: ['reports:read'], token_format: 'opaque' },
      ],
      clients: [
        {
          client_id: 'web',
          client_secret: 'web-secret',
          redirect_uris: [WEB],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          first_party: true,
        },
      ],
    },
  });
  const web = () => discover(testbed(), 'web', 'web-secret');
  const userinfoWith = async (token: string) =>
    readJson(await fetch(testbed().urls.userinfo, { headers: { authorization: `Bearer ${token}` } }));

  it('an audience login: the JWT for the API carries the OpenID scopes, and userinfo answers for it, its refreshes, and not once it is revoked', async () => {
    const config = await web();
    const { tokens } = await signIn(config, { redirect_uri: WEB, scope: 'openid profile email read:products', audience: PRODUCTS });
    const claims = decodeJwt(tokens.access_token);
    expect(claims.aud).toBe(PRODUCTS);
    expect(scopesOf(claims.scope as string)).toEqual(['email', 'openid', 'profile', 'read:products']);
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toEqual({
      sub: 'alice',
      name: 'Alice Example',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect((await userinfoWith(tokens.access_token)).status).toBe(200);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token).aud).toBe(PRODUCTS);
    expect(await client.fetchUserInfo(config, refreshed.access_token, 'alice')).toMatchObject({ email: 'alice@example.com' });

    await client.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' });
    const revoked = await userinfoWith(refreshed.access_token);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('not a token for a resource without openid, nor one minted without openid; openid alone names no resource', async () => {
    const config = await web();
    const reports = await signIn(config, { redirect_uri: WEB, scope: 'openid reports:read', resource: REPORTS });
    expect(await userinfoWith(reports.tokens.access_token)).toMatchObject({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'access token missing openid scope' },
    });

    const { tokens } = await signIn(config, { redirect_uri: WEB, scope: 'openid read:products', audience: PRODUCTS });
    const apiOnly = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'read:products' });
    expect(decodeJwt(apiOnly.access_token)).toMatchObject({ aud: PRODUCTS, scope: 'read:products' });
    expect((await userinfoWith(apiOnly.access_token)).status).toBe(401);

    const plain = await signIn(config, { redirect_uri: WEB, scope: 'openid email' });
    expect(plain.tokens.access_token.split('.')).toHaveLength(1);
    expect((await userinfoWith(plain.tokens.access_token)).body).toEqual({
      sub: 'alice',
      email: 'alice@example.com',
      email_verified: true,
    });
  });
});
