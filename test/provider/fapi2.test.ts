/**
 * The `fapi2` issuer profile (FAPI 2.0 Security Profile), served at <issuer>/fapi2 by the default
 * fixture, driven by openid-client 6 the way a FAPI 2.0 RP uses it: private_key_jwt, PAR, PKCE,
 * DPoP, and RFC 9207 `iss` checked.
 */
import { describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import type { Issuer } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { demoSigningKey } from '../support/demo-rp.ts';
import { postForm } from '../support/http.ts';
import { client, codeRequest } from '../support/openid.ts';
import { dpopHandle, dpopKey, dpopProof } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';

async function fapiClient(issuer: Issuer) {
  const { key, kid } = await demoSigningKey();
  return client.discovery(
    new URL(issuer.issuer),
    'fapi2-client',
    { id_token_signed_response_alg: 'ES256' },
    client.PrivateKeyJwt({ key, kid }),
    { execute: [client.allowInsecureRequests] },
  );
}

describe('the fapi2 issuer profile', () => {
  const testbed = useTestbed();
  const fapi2 = () => testbed().issuers['/fapi2'];

  it('is its own issuer under /fapi2, with FAPI 2.0 metadata', async () => {
    const metadata = (await (await fetch(fapi2().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: `${testbed().issuer}/fapi2`,
      require_pushed_authorization_requests: true,
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    });
    expect(metadata.id_token_signing_alg_values_supported).not.toContain('RS256');
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
    // RFC 8414 §3: the metadata of an issuer with a path, at the path-suffixed well-known URL.
    const rfc8414 = await fetch(fapi2().urls.authorizationServerMetadata);
    expect(fapi2().urls.authorizationServerMetadata).toBe(`${testbed().issuer}/.well-known/oauth-authorization-server/fapi2`);
    expect(rfc8414.status).toBe(200);
    expect(((await rfc8414.json()) as { issuer: string }).issuer).toBe(fapi2().issuer);
  });

  it('a FAPI 2.0 code flow: PAR + PKCE + private_key_jwt + DPoP; iss in the response; DPoP-bound tokens; refresh without rotation', async () => {
    const config = await fapiClient(fapi2());
    const key = await dpopKey();
    const DPoP = await dpopHandle(config, key);
    const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI);
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters, { DPoP });
    const { url: callbackUrl } = await new UserAgent().follow(url, REDIRECT_URI);
    expect(callbackUrl.searchParams.get('iss')).toBe(fapi2().issuer);

    const tokens = await client.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier: codeVerifier, expectedState: parameters.state, expectedNonce: parameters.nonce },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
    expect(tokens.claims()).toMatchObject({ iss: fapi2().issuer, sub: 'alice', aud: 'fapi2-client' });
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice', { DPoP });
    expect(userinfo).toMatchObject({ sub: 'alice', name: 'Alice Example' });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect(refreshed.refresh_token ?? tokens.refresh_token).toBe(tokens.refresh_token); // FAPI 2.0 §5.3.2.1: no rotation
    const again = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(again.access_token).toEqual(expect.any(String));
  });

  it('refuses an authorization request that was not pushed (invalid_request)', async () => {
    const config = await fapiClient(fapi2());
    const { parameters } = await codeRequest(REDIRECT_URI);
    const response = await fetch(client.buildAuthorizationUrl(config, parameters), { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/Pushed Authorization Request must be used/i);
  });

  it('refuses a token request without a DPoP proof (invalid_request)', async () => {
    const config = await fapiClient(fapi2());
    const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI);
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters);
    const { url: callbackUrl } = await new UserAgent().follow(url, REDIRECT_URI);
    await expect(
      client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: codeVerifier,
        expectedState: parameters.state,
        expectedNonce: parameters.nonce,
      }),
    ).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/DPoP/) });
  });

  it('refuses client authentication other than private_key_jwt (401 invalid_client)', async () => {
    const { parameters } = await codeRequest(REDIRECT_URI);
    const { status, body } = await postForm(
      fapi2().urls.pushedAuthorizationRequest,
      { ...parameters, client_id: 'fapi2-client', response_type: 'code' },
      { basic: ['fapi2-client', 'a-secret'] },
    );
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it("keeps its own clients: the main issuer's clients are unknown here and the other way round", async () => {
    const { key, kid } = await demoSigningKey();
    const onMain = await client.discovery(new URL(testbed().issuer), 'fapi2-client', {}, client.PrivateKeyJwt({ key, kid }), {
      execute: [client.allowInsecureRequests],
    });
    await expect(client.buildAuthorizationUrlWithPAR(onMain, (await codeRequest(REDIRECT_URI)).parameters)).rejects.toMatchObject({
      error: 'invalid_client',
    });
    const { status, body } = await postForm(
      fapi2().urls.token,
      { grant_type: 'client_credentials' },
      { basic: ['service-client', 'service-client-secret'] },
    );
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('its access tokens name it as issuer, are bound to the DPoP key, and work at the profile API (with proofs only)', async () => {
    const config = await fapiClient(fapi2());
    const key = await dpopKey();
    const DPoP = await dpopHandle(config, key);
    const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI);
    const url = await client.buildAuthorizationUrlWithPAR(config, { ...parameters, resource: 'http://localhost:9401/' }, { DPoP });
    const { url: callbackUrl } = await new UserAgent().follow(url, REDIRECT_URI);
    const tokens = await client.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier: codeVerifier, expectedState: parameters.state, expectedNonce: parameters.nonce },
      { resource: 'http://localhost:9401/' },
      { DPoP },
    );
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: fapi2().issuer,
      aud: 'http://localhost:9401/',
      cnf: { jkt: await calculateJwkThumbprint(key.publicJwk) },
    });
    const userinfo = new URL('userinfo', testbed().urls.profileApi);
    const response = await client.fetchProtectedResource(config, tokens.access_token, userinfo, 'GET', null, undefined, { DPoP });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'alice' });
    expect((await fetch(userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);

    // Revoked at the fapi2 issuer: the API asks that issuer, and refuses it.
    await client.tokenRevocation(config, tokens.access_token);
    const again = await fetch(userinfo, {
      headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await dpopProof(key, 'GET', userinfo.href, tokens.access_token) },
    });
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toMatch(/revoked/);
  });
});
