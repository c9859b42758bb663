import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { FixtureError, loadFixtureFile, startTestbed, validateFixture, type FixtureInput } from '../../src/index.ts';
import { client, discover, signIn } from '../support/openid.ts';
import { fixturePath, useTestbed } from '../support/testbed.ts';

/** Validates a fixture written to a temporary file and returns the FixtureError message. */
function problemsOf(text: string, name = 'fixture.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'oidc-testbed-fixture-')), name);
  writeFileSync(file, text);
  try {
    loadFixtureFile(file);
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureError);
    expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the fixture was accepted');
}

describe('the embedded default fixture', () => {
  const testbed = useTestbed();

  it('holds the seed client exactly, the four users and the two resources', () => {
    const { fixture } = testbed();
    expect(fixture.clients.find((entry) => entry.client_id === 'node-openid-client')).toEqual({
      client_id: 'node-openid-client',
      client_secret: 'password',
      client_name: 'node-openid-client sample',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['http://localhost:3000/forgerock/redirect', 'http://localhost:3000/callback'],
      post_logout_redirect_uris: ['http://localhost:3000'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange', 'implicit'],
      response_types: ['code', 'id_token', 'code id_token'],
      scope: 'openid profile email offline_access',
      access_token_ttl: 4,
    });
    expect(fixture.users.map((user) => [user.username, user.password])).toEqual([
      ['alice', 'alice-password'], ['bob', 'bob-password'], ['admin', 'admin-password'], ['sales', 'sales-password'],
    ]);
    expect(fixture.resources.map((resource) => [resource.indicator, resource.scopes, resource.token_format])).toEqual([
      ['http://localhost:9401/', expect.arrayContaining(['profile']), 'jwt'],
      ['http://localhost:9402/openidm/', ['fr:idm:*'], 'jwt'],
    ]);
    expect(fixture.clients.filter((entry) => entry.token_endpoint_auth_method === 'none').map((entry) => entry.client_id).sort()).toEqual(['device-client', 'spa-client']);
  });

  it('serves alice with the standard claims filled', async () => {
    const config = await discover(testbed(), 'spa-client');
    const { tokens } = await signIn(config, { redirect_uri: 'http://localhost:5173/callback', scope: 'openid profile email address phone' });
    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(info).toMatchObject({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com', email_verified: true, given_name: 'Alice', family_name: 'Example', birthdate: '1990-04-01', phone_number_verified: true });
    expect(Object.keys(info).length).toBeGreaterThanOrEqual(20);
  });
});

describe('the default fixture\'s users with custom claims (admin, sales)', () => {
  const testbed = useTestbed();

  it.each([
    ['admin', { isAdmin: true, roles: ['admin', 'payroll'], org_id: 'Required Organization' }],
    ['sales', { isAdmin: false, roles: ['sales', 'manager'], org_id: 'Another Organization' }],
  ])('%s: the profile scope releases the custom claims beside the standard ones, in the ID token and at userinfo', async (username, custom) => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const { tokens } = await signIn(config, { redirect_uri: 'http://localhost:3000/callback', scope: 'openid profile email', login_hint: username });
    expect(tokens.claims()).toMatchObject({ sub: username, preferred_username: username, email: `${username}@example.com`, ...custom });
    expect(await client.fetchUserInfo(config, tokens.access_token, username)).toMatchObject({ sub: username, email_verified: true, ...custom });
    const withoutProfile = await signIn(config, { redirect_uri: 'http://localhost:3000/callback', scope: 'openid email', login_hint: username });
    expect(withoutProfile.tokens.claims()).not.toHaveProperty('roles');
  });

  it('discovery lists the custom claims', async () => {
    const discovery = await (await fetch(testbed().urls.discovery)).json() as { claims_supported: string[] };
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(['isAdmin', 'roles', 'org_id', 'name', 'email']));
  });
});

describe('fixture files', () => {
  describe('a custom scope → claims mapping and a sub that is not the username (custom-claims.yaml)', () => {
    const testbed = useTestbed({ fixture: fixturePath('custom-claims.yaml') });

    it('releases the custom claim for the custom scope, and advertises the scope', async () => {
      const discovery = await (await fetch(testbed().urls.discovery)).json() as { scopes_supported: string[]; claims_supported: string[] };
      expect(discovery.scopes_supported).toContain('groups');
      expect(discovery.claims_supported).toContain('groups');
      const config = await discover(testbed(), 'web', 'web-secret');
      const { tokens } = await signIn(config, { redirect_uri: 'http://localhost:3000/callback', scope: 'openid groups', login_hint: 'carol' });
      expect(tokens.claims()!.sub).toBe('7f3c2a9e');
      expect(await client.fetchUserInfo(config, tokens.access_token, '7f3c2a9e')).toEqual({ sub: '7f3c2a9e', groups: ['admins', 'staff'] });
    });
  });

  it('may be JSON (minimal.json): everything else has defaults', async () => {
    const testbed = await startTestbed({ port: 0, fixture: fixturePath('minimal.json'), logLevel: 'silent' });
    try {
      expect(testbed.fixture.issuer).toMatchObject({ auto_login: false, access_token_alg: 'ES256', id_token_alg: 'RS256' });
      expect(testbed.fixture.users[0]).toMatchObject({ username: 'dave', claims: { name: 'Dave Example' } });
      expect((await fetch(testbed.urls.discovery)).status).toBe(200);
    } finally {
      await testbed.stop();
    }
  });
});

describe('fixtures/express-openid-connect.yaml (the library\'s examples, unmodified)', () => {
  const PRODUCTS = 'https://api.example.com/products';
  const CALLBACK = 'http://localhost:3000/callback';
  const testbed = useTestbed({ fixture: fileURLToPath(new URL('../../fixtures/express-openid-connect.yaml', import.meta.url)), autoLogin: true });
  const example = () => discover(testbed(), 'express-openid-connect-example', 'express-openid-connect-example-secret');

  it('access-an-api: the audience login gets a 10-second RS256 JWT for the products API with read:products; refresh() renews it; fetchUserInfo() answers', async () => {
    const config = await example();
    const { tokens } = await signIn(config, { redirect_uri: CALLBACK, scope: 'openid profile email offline_access read:products', audience: PRODUCTS, prompt: 'consent', login_hint: 'admin' });
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(testbed().urls.jwks)), { issuer: testbed().issuer, audience: PRODUCTS, algorithms: ['RS256'] });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.exp! - payload.iat!).toBe(10);
    expect((payload.scope as string).split(' ')).toContain('read:products');
    expect(tokens.claims()).toMatchObject({ sub: 'admin', isAdmin: true, roles: ['admin', 'payroll'] });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: PRODUCTS, scope: expect.stringContaining('read:products') });
    expect(await client.fetchUserInfo(config, refreshed.access_token, 'admin')).toMatchObject({ sub: 'admin', email: 'admin@example.com', org_id: 'Required Organization' });
  });

  it('custom-token-exchange: a login token for products without read:products is exchanged for one with it', async () => {
    const config = await example();
    const { tokens } = await signIn(config, { redirect_uri: CALLBACK, scope: 'openid profile offline_access', audience: PRODUCTS, login_hint: 'sales' });
    expect(decodeJwt(tokens.access_token).scope).not.toContain('read:products');
    const exchanged = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: tokens.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: PRODUCTS, scope: 'openid read:products',
    });
    expect(decodeJwt(exchanged.access_token)).toMatchObject({ aud: PRODUCTS, sub: 'sales', scope: 'openid read:products' });
  });

  it('serves the hybrid code id_token, and the back-channel logout client, to the examples', async () => {
    const discovery = await (await fetch(testbed().urls.discovery)).json() as { response_types_supported: string[] };
    expect(discovery.response_types_supported).toEqual(['code', 'id_token', 'code id_token', 'none']);
    expect(await testbed().main.provider.Client.find('backchannel-logout-client')).toMatchObject({ backchannelLogoutUri: 'http://localhost:3000/backchannel-logout', backchannelLogoutSessionRequired: true });
  });
});

describe('fixture validation: one message naming the file, the path and the fix', () => {
  it('an unknown field', () => {
    expect(problemsOf('issuer:\n  auto_logn: true\n')).toMatch(/: issuer: unknown field "auto_logn": remove or rename .* \(line 2\)$/);
  });

  it('a duplicate client_id', () => {
    expect(problemsOf('clients:\n  - client_id: a\n    client_secret: s\n  - client_id: a\n    client_secret: t\n'))
      .toContain('clients[1].client_id: duplicate client_id "a" (already used by clients[0])');
  });

  it('a YAML syntax error, with its line', () => {
    expect(problemsOf('users:\n  - username: alice\n    password: [unclosed\n')).toMatch(/not valid YAML\/JSON: .*\(line \d\)/);
  });

  it('a wrong type', () => {
    expect(problemsOf('issuer:\n  ttl:\n    access_token: soon\n')).toContain('issuer.ttl.access_token: must be a number');
  });

  it('a secret for a public client, and a missing secret for a confidential one', () => {
    const message = problemsOf([
      'clients:',
      '  - client_id: spa',
      '    token_endpoint_auth_method: none',
      '    client_secret: oops',
      '  - client_id: web',
      '    token_endpoint_auth_method: client_secret_post',
    ].join('\n'));
    expect(message).toContain('clients[0].client_secret: a public client (token_endpoint_auth_method: none) has no secret: remove client_secret');
    expect(message).toContain('clients[1].client_secret: is required for token_endpoint_auth_method client_secret_post');
  });

  it('private_key_jwt without keys', () => {
    expect(problemsOf('clients:\n  - client_id: k\n    token_endpoint_auth_method: private_key_jwt\n'))
      .toContain('clients[0]: private_key_jwt needs the client\'s public keys: add jwks or jwks_uri');
  });

  it('a resource the client may request that is not declared', () => {
    expect(problemsOf('clients:\n  - client_id: c\n    client_secret: s\n    allowed_resources: [http://localhost:9999/]\n'))
      .toContain('clients[0].allowed_resources[0]: "http://localhost:9999/" is not declared in resources[]');
  });

  it('a missing file', () => {
    expect(() => loadFixtureFile('/nonexistent/fixture.yaml')).toThrow('/nonexistent/fixture.yaml: file not found');
  });

  it('an in-memory fixture object is named "fixture"', () => {
    const input = { clients: [{ client_id: 'c', client_secret: 's', redirect_uris: ['nope'] }] } satisfies FixtureInput;
    expect(() => validateFixture(input)).toThrow('fixture: clients[0].redirect_uris[0]: must be an absolute URL');
  });

  it('a client that oidc-provider would refuse stops start-up, naming it and the engine\'s reason', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'oidc-testbed-fixture-')), 'engine.yaml');
    writeFileSync(file, 'clients:\n  - client_id: c\n    client_secret: s\n    redirect_uris: [http://localhost:3000/cb]\n    id_token_signed_response_alg: HS999\n');
    await expect(startTestbed({ port: 0, fixture: file, apis: false })).rejects.toThrow(
      `${file}: clients[0]: oidc-provider refuses this client: id_token_signed_response_alg must be`,
    );
  });

  it('rules of the fapi2 profile and of further issuers', () => {
    const message = problemsOf([
      'issuers:',
      '  - path: /token',
      '    issuer: { profile: fapi2 }',
      '    clients:',
      '      - { client_id: a, client_secret: s, token_endpoint_auth_method: client_secret_basic, redirect_uris: [http://localhost/cb] }',
      '      - { client_id: a, jwks: { keys: [] }, grant_types: [authorization_code, implicit, password] }',
    ].join('\n'));
    expect(message).toContain('issuers[0].path: "/token" is a path of the main issuer\'s own endpoints');
    expect(message).toContain('issuers[0].clients[1].client_id: duplicate client_id "a" (already used by issuers[0].clients[0])');
    expect(message).toContain('issuers[0].clients[0].token_endpoint_auth_method: the fapi2 profile allows only private_key_jwt');
    expect(message).toContain('issuers[0].clients[1].grant_types[1]: the fapi2 profile allows only the code flow: remove implicit');
    expect(message).toContain('issuers[0].clients[1].grant_types[2]: the password grant needs issuer.features.password_grant on');
  });
});
