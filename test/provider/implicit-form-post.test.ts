import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { formPostFields, hybridFormPost, postedCallback } from '../support/form-post.ts';
import { client, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';

describe('implicit id_token with response_mode=form_post (express-openid-connect defaults)', () => {
  const testbed = useTestbed();

  it('answers a 200 auto-submitting form to an http://localhost redirect URI carrying the ID token', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      response_type: 'id_token',
      response_mode: 'form_post',
      scope: 'openid profile email',
      nonce,
      state,
      login_hint: 'alice',
    });

    const { response } = await new UserAgent().follow(url);
    expect(response!.status).toBe(200);
    expect(response!.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response!.text();
    expect(html).toContain('document.forms[0].submit()');
    const { action, fields } = formPostFields(html);
    expect(action).toBe(REDIRECT_URI);
    // No `iss` parameter: the ID token's iss identifies the issuer (RFC 9207 §2.4).
    expect(Object.keys(fields).sort()).toEqual(['id_token', 'state']);
    expect(fields.state).toBe(state);

    const { payload } = await jwtVerify(fields.id_token, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'node-openid-client',
    });
    // No access token is issued, so the scope claims go into the ID token (conformIdTokenClaims).
    expect(payload).toMatchObject({ sub: 'alice', nonce, name: 'Alice Example', email: 'alice@example.com' });
  });

  it('requires a nonce for response_type=id_token (invalid_request)', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      response_type: 'id_token',
      response_mode: 'form_post',
      scope: 'openid',
      state,
      login_hint: 'alice',
    });
    const { response } = await new UserAgent().follow(url);
    const { fields } = formPostFields(await response!.text());
    expect(fields).toMatchObject({ error: 'invalid_request', state });
  });
});

describe("hybrid code id_token with response_mode=form_post (express-openid-connect's userinfo and validate_claims examples)", () => {
  const testbed = useTestbed();

  it('posts code, id_token (with c_hash and the scope claims) and state; openid-client checks the c_hash, exchanges the code and reads userinfo', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const { url, status, action, fields, nonce, state, codeVerifier } = await hybridFormPost(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email',
      login_hint: 'admin',
    });
    expect(url.searchParams.get('response_type')).toBe('code id_token');
    expect(status).toBe(200);
    expect(action).toBe(REDIRECT_URI);
    expect(Object.keys(fields).sort()).toEqual(['code', 'id_token', 'state']);
    const { payload } = await jwtVerify(fields.id_token, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'node-openid-client',
    });
    expect(payload).toMatchObject({
      sub: 'admin',
      nonce,
      c_hash: expect.any(String),
      email: 'admin@example.com',
      isAdmin: true,
      org_id: 'Required Organization',
    });

    // What the RP's /callback receives: the same form, POSTed.
    const callback = postedCallback(REDIRECT_URI, fields);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: codeVerifier,
      expectedNonce: nonce,
      expectedState: state,
    });
    expect(tokens.claims()).toMatchObject({ sub: 'admin', roles: ['admin', 'payroll'] });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'admin')).toMatchObject({ sub: 'admin', isAdmin: true });

    // A code whose c_hash does not match is refused by the RP.
    const tampered = postedCallback(REDIRECT_URI, { ...fields, code: `${fields.code}x` });
    await expect(
      client.authorizationCodeGrant(config, tampered, { pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state }),
    ).rejects.toMatchObject({ cause: { cause: { claim: 'c_hash' } } });
  });

  it('is refused to a client that did not register it', async () => {
    const config = await discover(testbed(), 'web-app', 'web-app-secret');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://localhost:3001/callback',
      response_type: 'code id_token',
      response_mode: 'form_post',
      scope: 'openid',
      nonce: client.randomNonce(),
      state: client.randomState(),
      login_hint: 'alice',
    });
    const { response } = await new UserAgent().follow(url);
    const { fields } = formPostFields(await response!.text());
    // oidc-provider's code for it (RFC 6749 §4.1.2.1 would say unauthorized_client).
    expect(fields).toMatchObject({ error: 'invalid_request', error_description: 'requested response_type is not allowed for this client' });
  });
});
