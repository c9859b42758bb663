/**
 * Pushed authorization requests (RFC 9126) with openid-client 6: a client that must push
 * (`require_pushed_authorization_requests`), an issuer where every client must
 * (`issuer.features.par.required`), and request_uri lifetimes.
 */
import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import type { FixtureInput, Testbed } from '../../src/index.ts';
import { UserAgent } from '../support/agent.ts';
import { demoSigningKey } from '../support/demo-rp.ts';
import { authorizationError, client, codeRequest, discover } from '../support/openid.ts';
import { defaultFixtureWithKeys, dpopHandle, dpopKey, PROFILE_API } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';

const codeParameters = (extra: Record<string, string> = {}) => codeRequest(REDIRECT_URI, extra);

/** The error an authorization request ends with (error redirect or error page). */
const errorOf = async (url: URL) => (await authorizationError(url)).error;

describe('PAR for a client that requires it (par-client: also DPoP-bound)', () => {
  const testbed = useTestbed();
  const parClient = () => discover(testbed(), 'par-client', 'par-client-secret');

  it('pushes, authorizes with the request_uri, and gets DPoP-bound tokens that the profile API accepts', async () => {
    const config = await parClient();
    const DPoP = await dpopHandle(config, await dpopKey());
    const { parameters, codeVerifier } = await codeParameters({ resource: PROFILE_API });
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters, { DPoP });
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const { url: callbackUrl } = await new UserAgent().follow(url, REDIRECT_URI);
    const tokens = await client.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier: codeVerifier, expectedState: parameters.state, expectedNonce: parameters.nonce },
      { resource: PROFILE_API },
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
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
  });

  it('a plain authorization request from it is refused (invalid_request)', async () => {
    const config = await parClient();
    const { parameters } = await codeParameters();
    expect(await errorOf(client.buildAuthorizationUrl(config, parameters))).toBe('invalid_request');
  });

  it('its token requests must carry a DPoP proof (dpop_bound_access_tokens)', async () => {
    const config = await parClient();
    const { parameters, codeVerifier } = await codeParameters();
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters);
    const { url: callbackUrl } = await new UserAgent().follow(url, REDIRECT_URI);
    await expect(
      client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: codeVerifier,
        expectedState: parameters.state,
        expectedNonce: parameters.nonce,
      }),
    ).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/must send a DPoP proof/) });
  });

  it('a request_uri is single-use: the second authorization request with it is refused (invalid_request_uri)', async () => {
    const config = await parClient();
    const { parameters } = await codeParameters();
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters);
    await new UserAgent().follow(url, REDIRECT_URI);
    expect(await errorOf(url)).toBe('invalid_request_uri');
  });

  it('advertises the endpoint in discovery', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata.pushed_authorization_request_endpoint).toBe(testbed().urls.pushedAuthorizationRequest);
    expect(metadata.require_pushed_authorization_requests).not.toBe(true);
  });
});

describe('an expired PAR request_uri', () => {
  const testbed = useTestbed();

  /** jar-client pushes a signed request object whose exp, and so the request_uri's lifetime, is `seconds` away. */
  async function pushShortLived(testbed: Testbed, seconds: number) {
    const { key, kid } = await demoSigningKey();
    const config = await discover(testbed, 'jar-client', undefined, {}, client.PrivateKeyJwt({ key, kid }));
    const { parameters } = await codeParameters();
    const now = Math.floor(Date.now() / 1000);
    const request = await new SignJWT({
      ...parameters,
      client_id: 'jar-client',
      response_type: 'code',
      iss: 'jar-client',
      aud: testbed.issuer,
      iat: now,
      nbf: now,
      exp: now + seconds,
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'oauth-authz-req+jwt' })
      .sign(key);
    return client.buildAuthorizationUrlWithPAR(config, { request });
  }

  it('lives as long as its request object, then is refused (invalid_request_uri)', async () => {
    const url = await pushShortLived(testbed(), 2);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect(await errorOf(url)).toBe('invalid_request_uri');
  });
});

describe('PAR required for every client (issuer.features.par.required)', () => {
  const testbed = useTestbed(async () => {
    const fixture = await defaultFixtureWithKeys();
    return {
      fixture: {
        ...fixture,
        issuer: { ...fixture.issuer, features: { ...fixture.issuer?.features, par: { required: true } } },
      } as FixtureInput,
      apis: false,
    };
  });

  it('says so in discovery and refuses a plain request from any client (invalid_request)', async () => {
    const metadata = (await (await fetch(testbed().urls.discovery)).json()) as Record<string, unknown>;
    expect(metadata.require_pushed_authorization_requests).toBe(true);
    const config = await discover(testbed(), 'node-openid-client', 'password');
    const { parameters } = await codeParameters();
    expect(await errorOf(client.buildAuthorizationUrl(config, parameters))).toBe('invalid_request');
    const pushed = await client.buildAuthorizationUrlWithPAR(config, parameters);
    const { url } = await new UserAgent().follow(pushed, REDIRECT_URI);
    expect(url.searchParams.get('code')).toEqual(expect.any(String));
  });
});
