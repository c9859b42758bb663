/**
 * JWT Secured Authorization Response Mode (JARM): the authorization response as a JWT signed by the
 * issuer, in the query (`jwt`, `query.jwt`) or a form post (`form_post.jwt`), with openid-client 6.
 */
import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { UserAgent } from '../support/agent.ts';
import { client, codeRequest, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';

describe('JARM', () => {
  const testbed = useTestbed();

  it('response_mode=jwt: the code arrives in a signed `response` JWT that openid-client verifies (useJwtResponseMode)', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    client.useJwtResponseMode(config);
    const { parameters, codeVerifier } = await codeRequest(REDIRECT_URI);
    const url = client.buildAuthorizationUrl(config, parameters);
    expect(url.searchParams.get('response_mode')).toBe('jwt');
    const { url: callbackUrl } = await new UserAgent().follow(url, REDIRECT_URI);
    expect([...callbackUrl.searchParams.keys()]).toEqual(['response']);

    const response = callbackUrl.searchParams.get('response')!;
    expect(decodeProtectedHeader(response)).toMatchObject({ alg: 'RS256' });
    const { payload } = await jwtVerify(response, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'node-openid-client',
    });
    expect(payload).toMatchObject({ code: expect.any(String), state: parameters.state });

    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: codeVerifier,
      expectedState: parameters.state,
      expectedNonce: parameters.nonce,
    });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', aud: 'node-openid-client' });
  });

  it('errors come back as JWTs too: prompt=none without a session is a login_required response JWT', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    client.useJwtResponseMode(config);
    const { parameters } = await codeRequest(REDIRECT_URI, { prompt: 'none' });
    const { url: callbackUrl } = await new UserAgent().follow(client.buildAuthorizationUrl(config, parameters), REDIRECT_URI);
    const { payload } = await jwtVerify(callbackUrl.searchParams.get('response')!, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'node-openid-client',
    });
    expect(payload).toMatchObject({ error: 'login_required', state: parameters.state });
  });

  it('response_mode=form_post.jwt: an auto-submitting form carrying `response`', async () => {
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const { parameters } = await codeRequest(REDIRECT_URI, { response_mode: 'form_post.jwt' });
    const { response } = await new UserAgent().follow(client.buildAuthorizationUrl(config, parameters));
    expect(response!.status).toBe(200);
    const html = await response!.text();
    expect(html).toContain(`action="${REDIRECT_URI}"`);
    const jwt = /name="response" value="([^"]+)"/.exec(html)?.[1];
    const { payload } = await jwtVerify(jwt!, createRemoteJWKSet(new URL(testbed().urls.jwks)), {
      issuer: testbed().issuer,
      audience: 'node-openid-client',
    });
    expect(payload.code).toEqual(expect.any(String));
  });

  it('advertises the JWT response modes and their algorithms', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata.response_modes_supported).toEqual(expect.arrayContaining(['jwt', 'query.jwt', 'fragment.jwt', 'form_post.jwt']));
    expect(metadata.authorization_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
  });
});
