/**
 * One testbed per test file, steered per test: the pattern for an RP's own test suite (vitest).
 * Each test changes the IdP it needs (a user, a fault, the clock, …) and `afterEach` resets it,
 * so tests stay independent without restarting anything. Copy this file into your project:
 * `npm install --save-dev oidc-testbed openid-client vitest`.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestbed, type Testbed } from 'oidc-testbed';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let testbed: Testbed;
beforeAll(async () => {
  testbed = await startTestbed({ port: 0, apis: false });
});
afterEach(() => testbed.reset());
afterAll(() => testbed.stop());

/** The code under test would do this: the password grant of the fixture's `legacy-app` (RFC 6749 §4.3). */
async function signIn(username: string, password: string, metadata: Partial<client.ClientMetadata> = {}) {
  const config = await client.discovery(
    new URL(testbed.issuer),
    'legacy-app',
    { client_secret: 'legacy-app-secret', ...metadata },
    undefined,
    { execute: [client.allowInsecureRequests] }, // the testbed is plain http on localhost
  );
  const tokens = await client.genericGrantRequest(config, 'password', { username, password, scope: 'openid email offline_access' });
  return { config, tokens };
}

describe('an RP test suite steering its IdP', () => {
  it('signs in a user made for this test, with the claims it needs', async () => {
    await testbed.main.users.put('dana', { password: 'dana-password', claims: { email: 'dana@example.com', email_verified: true } });
    const { tokens } = await signIn('dana', 'dana-password');
    expect(tokens.claims()).toMatchObject({ sub: 'dana', email: 'dana@example.com', iss: testbed.issuer });
  });

  it('sees the token endpoint refuse exactly the third refresh', async () => {
    const fault = await testbed.main.faults.add({
      endpoint: 'token',
      match: { grant_type: 'refresh_token' },
      after: 2,
      times: 1,
      respond: { status: 400, body: { error: 'invalid_grant', error_description: 'injected by the test' } },
    });
    const { config, tokens } = await signIn('alice', 'alice-password');
    let refreshToken = tokens.refresh_token!;
    for (const attempt of [1, 2]) {
      refreshToken = (await client.refreshTokenGrant(config, refreshToken)).refresh_token!;
      expect(attempt).toBeLessThan(3);
    }
    await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await fault.hits()).toBe(1);
    // The refused refresh burned nothing: the same refresh token works on the fourth try.
    await expect(client.refreshTokenGrant(config, refreshToken)).resolves.toHaveProperty('access_token');
  });

  it('finds a fresh ID token expired when the IdP clock is an hour behind and the RP allows no skew', async () => {
    await testbed.main.clock.set(-3600);
    await expect(signIn('alice', 'alice-password', { [client.clockTolerance]: 0 })).rejects.toMatchObject({
      code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
    });
  });

  it('shows what the app sent, secrets redacted', async () => {
    await signIn('alice', 'alice-password');
    const [sent] = testbed.main.requests.list({ route: 'token' });
    expect(sent).toMatchObject({ method: 'POST', status: 200, client_id: 'legacy-app', grant_type: 'password' });
    expect(JSON.stringify(sent)).not.toContain('alice-password');
  });

  it('mints an access token for an API test without a login', async () => {
    const { access_token: token } = await testbed.main.tokens.accessToken({
      sub: 'alice',
      client_id: 'web-app',
      resource: 'http://localhost:9401/',
      scope: 'profile',
    });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(testbed.urls.jwks)), {
      issuer: testbed.issuer,
      audience: 'http://localhost:9401/',
    });
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'web-app', scope: 'profile' });
  });
});
