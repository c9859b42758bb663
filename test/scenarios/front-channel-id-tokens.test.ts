/**
 * ID-token defects apply wherever the issuer issues the ID token: here at the authorization
 * endpoint, by form_post (express-openid-connect's default mode), in the hybrid `code id_token`
 * flow through openid-client 6 and in the implicit `id_token` flow through jose. After such a
 * defect a correct RP sends nothing to the token endpoint.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { formPostFields, hybridFormPost, postedCallback } from '../support/form-post.ts';
import { client, discoverAt } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';
const QUICK = { waitMs: 300, timeoutMs: 3000 };

describe('ID-token defects at the authorization endpoint (form_post)', () => {
  const testbed = useTestbed({ apis: false });

  async function hybridLogin(scenario: string) {
    const handle = await testbed().scenario(scenario, { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'node-openid-client', 'password');
    const { fields, nonce, state, codeVerifier } = await hybridFormPost(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      login_hint: 'alice',
    });
    const failure = await client
      .authorizationCodeGrant(config, postedCallback(REDIRECT_URI, fields), {
        pkceCodeVerifier: codeVerifier,
        expectedNonce: nonce,
        expectedState: state,
      })
      .then(
        () => undefined,
        (error: unknown) => error as { code?: string; cause?: { message?: string } },
      );
    return { handle, fields, nonce, failure };
  }

  it.each([
    ['id-token-invalid-nonce', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /nonce/],
    ['id-token-invalid-iss', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', /"iss"/],
    ['id-token-missing-sub', 'OAUTH_INVALID_RESPONSE', /"sub"/],
    ['id-token-expired', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', /"exp"/],
  ])('%s: openid-client refuses the hybrid response before any token request (%s); the verdict passes', async (scenario, code, cause) => {
    const { handle, fields, failure } = await hybridLogin(scenario);
    expect(decodeJwt(fields.id_token).c_hash).toEqual(expect.any(String)); // the rest of the token is the engine's
    expect(failure?.code).toBe(code);
    expect(failure?.cause?.message).toMatch(cause);
    const verdict = await handle.waitForVerdict(QUICK);
    expect(verdict.status).toBe('passed');
    expect(verdict.requests.some((request) => request.endpoint === 'token')).toBe(false);
  });

  it('fails, naming token, when the relying party redeems the hybrid code after the bad ID token', async () => {
    const { handle, fields } = await hybridLogin('id-token-invalid-nonce');
    await fetch(`${handle.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('node-openid-client:password').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: fields.code, redirect_uri: REDIRECT_URI }),
    });
    const verdict = await handle.waitForVerdict(QUICK);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/called token/);
  });

  it("the implicit id_token of express-openid-connect's default flow carries the defect too", async () => {
    const handle = await testbed().scenario('id-token-invalid-aud', { run: randomUUID() });
    const config = await discoverAt(handle.issuer, 'node-openid-client', 'password');
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      response_type: 'id_token',
      response_mode: 'form_post',
      scope: 'openid',
      nonce,
      login_hint: 'alice',
    });
    const { response } = await new UserAgent().follow(url);
    const claims = decodeJwt(formPostFields(await response!.text()).fields.id_token);
    expect(claims).toMatchObject({ aud: 'node-openid-client1', nonce, iss: handle.issuer, sub: 'alice' });
    expect((await handle.waitForVerdict(QUICK)).defect_served_at).not.toBeNull();
  });
});
