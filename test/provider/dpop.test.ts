/**
 * DPoP at the IdP (RFC 9449): sender-constrained access and refresh tokens, `dpop_jkt` at
 * authorization (§10), proof replay at the token endpoint (§11.1), server nonces (§8), and the use
 * of a bound token at the mock profile API, with openid-client 6.
 */
import { describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import type { FixtureInput } from '../../src/index.ts';
import { postForm } from '../support/http.ts';
import { authorize, client, discover } from '../support/openid.ts';
import { callApi, defaultFixtureWithKeys, dpopHandle, dpopKey, dpopProof, PROFILE_API, serviceToken } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const SPA_REDIRECT = 'http://localhost:5173/callback';

describe('DPoP-bound tokens from the IdP', () => {
  const testbed = useTestbed();
  const spa = () => discover(testbed(), 'spa-client', undefined, {}, client.None());

  it('code flow: token_type DPoP, cnf.jkt of the proof key; the token works at the profile API only with proofs', async () => {
    const config = await spa();
    const key = await dpopKey();
    const DPoP = await dpopHandle(config, key);
    const auth = await authorize(config, { redirect_uri: SPA_REDIRECT, scope: 'openid profile', resource: PROFILE_API });
    const tokens = await client.authorizationCodeGrant(
      config,
      auth.callbackUrl,
      { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
      { resource: PROFILE_API },
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: PROFILE_API, cnf: { jkt: await calculateJwkThumbprint(key.publicJwk) } });

    const response = await client.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL('userinfo', testbed().urls.profileApi),
      'GET',
      null,
      undefined,
      { DPoP },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'alice', name: 'Alice Example' });
    const asBearer = await callApi(new URL('userinfo', testbed().urls.profileApi), {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.challenge).toMatch(/^DPoP .*error="invalid_token"/);
  });

  it("a public client's refresh token is bound too: refreshing with another key is refused (invalid_grant), with the same key it works", async () => {
    const config = await spa();
    const key = await dpopKey();
    const DPoP = await dpopHandle(config, key);
    const auth = await authorize(config, { redirect_uri: SPA_REDIRECT, scope: 'openid profile', resource: PROFILE_API });
    const tokens = await client.authorizationCodeGrant(
      config,
      auth.callbackUrl,
      { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
      { resource: PROFILE_API },
      { DPoP },
    );
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const otherKey = await dpopHandle(config, await dpopKey());
    await expect(
      client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API }, { DPoP: otherKey }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: PROFILE_API }, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
  });

  it('dpop_jkt at authorization binds the code: exchanging it with another key is refused (invalid_grant)', async () => {
    const config = await spa();
    const bound = await dpopKey();
    const auth = await authorize(config, {
      redirect_uri: SPA_REDIRECT,
      scope: 'openid',
      dpop_jkt: await calculateJwkThumbprint(bound.publicJwk),
    });
    const other = await dpopHandle(config, await dpopKey());
    await expect(
      client.authorizationCodeGrant(
        config,
        auth.callbackUrl,
        { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
        undefined,
        { DPoP: other },
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a replayed proof at the token endpoint is refused (invalid_dpop_proof)', async () => {
    const key = await dpopKey();
    const tokenUrl = testbed().urls.token;
    // A token-endpoint proof carries no ath (RFC 9449 §4.2).
    const proof = await dpopProof(key, 'POST', tokenUrl, '', { claims: { ath: undefined } });
    const request = () =>
      postForm(
        tokenUrl,
        { grant_type: 'client_credentials', resource: PROFILE_API, scope: 'profile' },
        { basic: ['service-client', 'service-client-secret'], headers: { dpop: proof } },
      );
    const first = await request();
    expect(first.status).toBe(200);
    expect(first.body.token_type).toBe('DPoP');
    const replay = await request();
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/replay/i) });
  });

  it('a proof for another URL is refused (invalid_dpop_proof)', async () => {
    const key = await dpopKey();
    const proof = await dpopProof(key, 'POST', `${testbed().urls.token}/elsewhere`, '', { claims: { ath: undefined } });
    const { status, body } = await postForm(
      testbed().urls.token,
      { grant_type: 'client_credentials', resource: PROFILE_API, scope: 'profile' },
      { basic: ['service-client', 'service-client-secret'], headers: { dpop: proof } },
    );
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_dpop_proof');
  });

  it('advertises the proof algorithms in discovery', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'Ed25519']));
  });
});

describe('DPoP server nonces (issuer.features.dpop.require_nonce)', () => {
  const testbed = useTestbed(async () => {
    const fixture = await defaultFixtureWithKeys();
    return {
      fixture: {
        ...fixture,
        issuer: { ...fixture.issuer, features: { ...fixture.issuer?.features, dpop: { enabled: true, require_nonce: true } } },
      } as FixtureInput,
    };
  });

  it('a proof without a nonce: 400 use_dpop_nonce with a DPoP-Nonce header', async () => {
    const proof = await dpopProof(await dpopKey(), 'POST', testbed().urls.token, '', { claims: { ath: undefined } });
    const { status, headers, body } = await postForm(
      testbed().urls.token,
      { grant_type: 'client_credentials', resource: PROFILE_API, scope: 'profile' },
      { basic: ['service-client', 'service-client-secret'], headers: { dpop: proof } },
    );
    expect(status).toBe(400);
    expect(body.error).toBe('use_dpop_nonce');
    expect(headers.get('dpop-nonce')).toEqual(expect.any(String));
  });

  it('openid-client retries with the nonce by itself and gets a bound token', async () => {
    const config = await discover(testbed(), 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
    const key = await dpopKey();
    const token = await serviceToken(testbed(), PROFILE_API, 'profile', await dpopHandle(config, key));
    expect(decodeJwt(token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
  });
});

describe('DPoP turned off (issuer.features.dpop: false)', () => {
  const testbed = useTestbed(async () => {
    const fixture = await defaultFixtureWithKeys();
    return {
      fixture: { ...fixture, issuer: { ...fixture.issuer, features: { ...fixture.issuer?.features, dpop: false } } } as FixtureInput,
      apis: false,
    };
  });

  it('is not advertised, and a proof is ignored: a Bearer token', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty('dpop_signing_alg_values_supported');
    const proof = await dpopProof(await dpopKey(), 'POST', testbed().urls.token, '', { claims: { ath: undefined } });
    const { status, body } = await postForm(
      testbed().urls.token,
      { grant_type: 'client_credentials', resource: PROFILE_API, scope: 'profile' },
      { basic: ['service-client', 'service-client-secret'], headers: { dpop: proof } },
    );
    expect(status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(decodeJwt(body.access_token as string).cnf).toBeUndefined();
  });
});
