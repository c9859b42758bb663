/** The mock APIs accept the access tokens of scenario runs (each run signs with keys of its own). */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { authorize, client, discoverAt, signIn } from '../support/openid.ts';
import { PROFILE_API, WEB_APP_REDIRECT } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

describe('mock APIs and scenario runs', () => {
  const testbed = useTestbed();

  it("the profile API accepts a run's access token, checked against the run's own JWKS", async () => {
    const handle = await testbed().scenario('happy-path', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'web-app', 'web-app-secret');
    const { tokens } = await signIn(config, {
      redirect_uri: WEB_APP_REDIRECT,
      scope: 'openid profile',
      resource: PROFILE_API,
      login_hint: 'alice',
    });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: handle.issuer, aud: PROFILE_API });
    const answer = await client.fetchProtectedResource(config, tokens.access_token, new URL('userinfo', testbed().urls.profileApi), 'GET');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ sub: 'alice' });
  });

  it('an RP that calls a mock API with the access token of a bad token response fails the run, naming the API', async () => {
    const handle = await testbed().scenario('id-token-invalid-iss', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'web-app', 'web-app-secret');
    // What an RP that does not check the ID token does: redeem the code, then use the access token.
    const auth = await authorize(config, {
      redirect_uri: WEB_APP_REDIRECT,
      scope: 'openid profile',
      resource: PROFILE_API,
      login_hint: 'alice',
    });
    const token = await fetch(config.serverMetadata().token_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: auth.callbackUrl.searchParams.get('code')!,
        redirect_uri: WEB_APP_REDIRECT,
        code_verifier: auth.codeVerifier,
        client_id: 'web-app',
        client_secret: 'web-app-secret',
        resource: PROFILE_API,
      }),
    });
    const { access_token, id_token } = (await token.json()) as { access_token: string; id_token: string };
    expect(decodeJwt(id_token).iss).toBe(`${handle.issuer}1`);
    const api = await fetch(new URL('userinfo', testbed().urls.profileApi), { headers: { authorization: `Bearer ${access_token}` } });
    expect(api.status).toBe(200);
    const verdict = await handle.waitForVerdict({ waitMs: 300, timeoutMs: 3000 });
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/called profile-api \(GET \/userinfo → 200\)/);
  });

  it('refuses a token naming a run that does not exist', async () => {
    const answer = await fetch(new URL('userinfo', testbed().urls.profileApi), {
      headers: { authorization: `Bearer ${forgedToken(`${testbed().issuer}/scenarios/happy-path/runs/${randomUUID()}`)}` },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });
});

/** A JWT-shaped token with an unsigned payload: it must never get as far as a JWKS. */
function forgedToken(iss: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'at+jwt' })}.${part({ iss, aud: PROFILE_API, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60, iat: Math.floor(Date.now() / 1000) })}.c2ln`;
}
