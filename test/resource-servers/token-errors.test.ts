/**
 * The shared token check, error by error (RFC 6750 §3): status, the exact WWW-Authenticate header,
 * and the JSON body, at the profile API (realm "profile-api").
 */
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { generateKeyPair, SignJWT } from 'jose';
import { postForm } from '../support/http.ts';
import { client, signIn } from '../support/openid.ts';
import {
  bearer,
  callApi,
  DIRECTORY_API,
  defaultFixtureWithKeys,
  forgeAccessToken,
  PROFILE_API,
  serviceToken,
  testbedKey,
  unsecuredJwt,
  userTokens,
  WEB_APP_REDIRECT,
  webApp,
} from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const ALGS = 'algs="ES256 Ed25519 EdDSA"';
const invalidToken = (description: string) => `Bearer realm="profile-api", error="invalid_token", error_description="${description}"`;

describe('mock APIs: token errors (RFC 6750 §3)', () => {
  const testbed = useTestbed(async () => ({ fixture: await defaultFixtureWithKeys() }));
  const userinfo = () => new URL('userinfo', testbed().urls.profileApi);
  const me = () => new URL('me', testbed().urls.profileApi);

  const expectInvalidToken = async (token: string, description: string) => {
    const response = await callApi(userinfo(), { headers: bearer(token) });
    expect(response.status).toBe(401);
    expect(response.challenge).toBe(invalidToken(description));
    expect(response.body).toEqual({ error: 'invalid_token', error_description: description });
    expect(response.headers.get('cache-control')).toBe('no-store');
  };

  describe('no credentials', () => {
    it('401 with both challenges and no error code', async () => {
      const response = await callApi(userinfo());
      expect(response.status).toBe(401);
      expect(response.challenge).toBe(`Bearer realm="profile-api", DPoP realm="profile-api", ${ALGS}`);
      expect(response.body.error).toBeUndefined();
      expect(response.body.error_description).toMatch(/no access token/);
    });

    it('the challenge parses with openid-client into a Bearer and a DPoP challenge', async () => {
      const { config } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
      // Strip the token on the way out: the API then sees a request without credentials.
      config[client.customFetch] = (url, options) => {
        const headers = new Headers(options.headers);
        headers.delete('authorization');
        return fetch(url, { ...options, headers } as RequestInit);
      };
      const failure = await client.fetchProtectedResource(config, 'unused', userinfo(), 'GET').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(client.WWWAuthenticateChallengeError);
      expect((failure as client.WWWAuthenticateChallengeError).cause).toEqual([
        { scheme: 'bearer', parameters: { realm: 'profile-api' } },
        { scheme: 'dpop', parameters: { realm: 'profile-api', algs: 'ES256 Ed25519 EdDSA' } },
      ]);
    });
  });

  describe('malformed requests: 400 invalid_request', () => {
    const expectInvalidRequest = async (response: Awaited<ReturnType<typeof callApi>>, description: string) => {
      expect(response.status).toBe(400);
      expect(response.challenge).toBe(`Bearer realm="profile-api", error="invalid_request", error_description="${description}"`);
      expect(response.body).toEqual({ error: 'invalid_request', error_description: description });
    };

    it('a Bearer header without a token', async () => {
      await expectInvalidRequest(
        await callApi(userinfo(), { headers: { authorization: 'Bearer' } }),
        'malformed Authorization header: expected Bearer followed by one space and the token',
      );
    });

    it('a Bearer header with two values', async () => {
      await expectInvalidRequest(
        await callApi(userinfo(), { headers: { authorization: 'Bearer abc def' } }),
        'malformed Authorization header: expected Bearer followed by one space and the token',
      );
    });

    it('another authorization scheme', async () => {
      await expectInvalidRequest(
        await callApi(userinfo(), { headers: { authorization: 'Basic YTpi' } }),
        'unsupported Authorization scheme Basic: use Bearer or DPoP',
      );
    });

    it('the token in the header and the query', async () => {
      const token = await forgeAccessToken(testbed());
      await expectInvalidRequest(
        await callApi(`${userinfo().href}?access_token=${token}`, { headers: bearer(token) }),
        'the access token was sent 2 ways (header, query): use exactly one (RFC 6750 section 2)',
      );
    });

    it('the token in the header and a form body', async () => {
      const token = await forgeAccessToken(testbed());
      const response = await fetch(me(), {
        method: 'PATCH',
        headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      await expectInvalidRequest(
        {
          status: response.status,
          headers: response.headers,
          challenge: response.headers.get('www-authenticate'),
          body: (await response.json()) as Record<string, unknown>,
        },
        'the access token was sent 2 ways (header, body): use exactly one (RFC 6750 section 2)',
      );
    });

    it('access_token twice in the query', async () => {
      await expectInvalidRequest(
        await callApi(`${userinfo().href}?access_token=a&access_token=b`),
        'access_token appears more than once in the query',
      );
    });
  });

  describe('invalid tokens: 401 invalid_token saying why', () => {
    it('bad signature: signed with another key under the testbed key id', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      await expectInvalidToken(await forgeAccessToken(testbed(), {}, {}, privateKey), 'access token signature verification failed');
    });

    it('a key id the issuer does not have', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      await expectInvalidToken(
        await forgeAccessToken(testbed(), {}, { kid: 'not-a-testbed-key' }, privateKey),
        'no key in the issuer JWKS matches the access token (kid, alg)',
      );
    });

    it('alg none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = unsecuredJwt({
        iss: testbed().issuer,
        aud: 'http://localhost:9401/',
        sub: 'alice',
        scope: 'profile',
        iat: now,
        exp: now + 60,
      });
      await expectInvalidToken(
        token,
        'access token alg none is not accepted (accepted: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 Ed25519 EdDSA)',
      );
    });

    it('HS256 with the issuer public key as the HMAC secret', async () => {
      const { jwk, kid } = await testbedKey(testbed(), 'RS256');
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
      const secret = new TextEncoder().encode(
        createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string,
      );
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        iss: testbed().issuer,
        aud: 'http://localhost:9401/',
        sub: 'alice',
        scope: 'profile',
        iat: now,
        exp: now + 60,
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
        .sign(secret);
      await expectInvalidToken(
        token,
        'access token alg HS256 is not accepted (accepted: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 Ed25519 EdDSA)',
      );
    });

    it('wrong issuer (the API trusts the issuers that serve its resource: the main one and /fapi2)', async () => {
      await expectInvalidToken(
        await forgeAccessToken(testbed(), { iss: 'http://localhost:9999' }),
        `access token issuer is not ${testbed().issuer} or ${testbed().issuer}/fapi2`,
      );
    });

    it('wrong audience: a real token for the directory API', async () => {
      const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*');
      await expectInvalidToken(
        token,
        'access token audience is not this API (expected http://localhost:9401/, got http://localhost:9402/openidm/)',
      );
    });

    it('expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectInvalidToken(await forgeAccessToken(testbed(), { iat: now - 120, exp: now - 60 }), 'access token expired');
    });

    it('not yet valid (nbf)', async () => {
      await expectInvalidToken(
        await forgeAccessToken(testbed(), { nbf: Math.floor(Date.now() / 1000) + 120 }),
        'access token is not yet valid (nbf)',
      );
    });

    it('issued in the future (iat)', async () => {
      await expectInvalidToken(
        await forgeAccessToken(testbed(), { iat: Math.floor(Date.now() / 1000) + 120 }),
        'access token is issued in the future (iat)',
      );
    });

    it('typ other than at+jwt', async () => {
      await expectInvalidToken(await forgeAccessToken(testbed(), {}, { typ: 'JWT' }), 'access token typ is not at+jwt (RFC 9068)');
    });

    it('correctly signed but never issued by the IdP (its jti is not one the IdP sealed): refused, and inactive at introspection', async () => {
      const forged = await forgeAccessToken(testbed());
      await expectInvalidToken(forged, 'access token has been revoked (or was never issued by this issuer)');
      const { status, body } = await postForm(
        testbed().urls.introspection,
        { token: forged },
        { basic: ['profile-api', 'profile-api-secret'] },
      );
      expect(status).toBe(200);
      expect(body).toEqual({ active: false });
    });

    it('an opaque token the IdP does not know (asked by introspection)', async () => {
      await expectInvalidToken('opaque-looking-token', 'access token is not active (expired, revoked or unknown to the issuer)');
    });

    it('revoked: refused on the next use, although the API has it cached', async () => {
      const { config, tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
      expect((await callApi(userinfo(), { headers: bearer(tokens.access_token) })).status).toBe(200);
      expect((await callApi(userinfo(), { headers: bearer(tokens.access_token) })).status).toBe(200);
      await client.tokenRevocation(config, tokens.access_token);
      await expectInvalidToken(tokens.access_token, 'access token has been revoked (or was never issued by this issuer)');
    });

    it('revoked with its grant: refresh-token reuse kills the access token too, cached or not', async () => {
      const { config, tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
      expect((await callApi(userinfo(), { headers: bearer(tokens.access_token) })).status).toBe(200);
      await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9401/' });
      await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9401/' }).catch(() => undefined); // reuse
      await expectInvalidToken(tokens.access_token, 'access token has been revoked (or was never issued by this issuer)');
    });

    it("revoked with its grant's tokens: a JWT of that grant the API has never seen is refused on its first use", async () => {
      const { config, tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
      const unseen = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'http://localhost:9401/' });
      expect((await callApi(userinfo(), { headers: bearer(tokens.access_token) })).status).toBe(200);
      await client.tokenRevocation(config, tokens.access_token);
      await expectInvalidToken(unseen.access_token, 'access token has been revoked (or was never issued by this issuer)');
    });

    it('bound to its session (no offline_access): refused once the session is gone, although its grant remains', async () => {
      const config = await webApp(testbed());
      const { auth, tokens } = await signIn(
        config,
        { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile', resource: PROFILE_API },
        { resource: PROFILE_API },
      );
      expect((await callApi(userinfo(), { headers: bearer(tokens.access_token) })).status).toBe(200);
      const { provider } = testbed().main;
      const session = await provider.Session.find(auth.agent.cookie('_session')!);
      const grantId = session!.grantIdFor('web-app')!;
      await session!.destroy();
      expect(await provider.Grant.find(grantId)).toBeDefined();
      await expectInvalidToken(tokens.access_token, 'access token has been revoked (or was never issued by this issuer)');
    });

    it('bound to its session: refused, although cached, once the session is rewritten without its grant (nothing removed)', async () => {
      const config = await webApp(testbed());
      const { auth, tokens } = await signIn(
        config,
        { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile', resource: PROFILE_API },
        { resource: PROFILE_API },
      );
      expect((await callApi(userinfo(), { headers: bearer(tokens.access_token) })).status).toBe(200);
      const session = await testbed().main.provider.Session.find(auth.agent.cookie('_session')!);
      delete session!.authorizations!['web-app'];
      await session!.persist();
      await expectInvalidToken(tokens.access_token, 'access token has been revoked (or was never issued by this issuer)');
    });
  });

  describe('insufficient scope: 403 with the scope needed', () => {
    it('PATCH /me without profile:write', async () => {
      const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile email');
      const response = await callApi(me(), {
        method: 'PATCH',
        headers: { ...bearer(tokens.access_token), 'content-type': 'application/json' },
        body: '{"nickname":"x"}',
      });
      expect(response.status).toBe(403);
      expect(response.challenge).toBe(
        'Bearer realm="profile-api", error="insufficient_scope", error_description="this request needs the scope profile:write", scope="profile:write"',
      );
      expect(response.body).toEqual({
        error: 'insufficient_scope',
        error_description: 'this request needs the scope profile:write',
        scope: 'profile:write',
      });
    });

    it('GET /userinfo with a write-only token', async () => {
      const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile:write');
      const response = await callApi(userinfo(), { headers: bearer(tokens.access_token) });
      expect(response.status).toBe(403);
      expect(response.challenge).toBe(
        'Bearer realm="profile-api", error="insufficient_scope", error_description="this request needs one of the scopes profile email address phone", scope="profile email address phone"',
      );
    });
  });

  describe('the other token methods of RFC 6750 §2', () => {
    it('a token in the query is accepted', async () => {
      const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
      const response = await callApi(`${userinfo().href}?access_token=${tokens.access_token}`);
      expect(response.status).toBe(200);
      expect(response.body.sub).toBe('alice');
    });

    it('a form-body token is accepted (PATCH /me then wants JSON: 415, not 401)', async () => {
      const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile:write');
      const patch = await fetch(me(), {
        method: 'PATCH',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${tokens.access_token}`,
      });
      expect(patch.status).toBe(415);
      expect(await patch.json()).toEqual({
        error: 'invalid_request',
        error_description: 'send the changes as application/merge-patch+json (RFC 7396) or application/json',
      });
    });
  });

  it('the directory API answers the same way, in its own realm', async () => {
    const response = await callApi(new URL('info/login', testbed().urls.directoryApi));
    expect(response.status).toBe(401);
    expect(response.challenge).toBe(`Bearer realm="directory-api", DPoP realm="directory-api", ${ALGS}`);
    const token = (await userTokens(testbed(), 'http://localhost:9401/', 'profile')).tokens.access_token;
    const wrongAudience = await callApi(new URL('info/login', testbed().urls.directoryApi), { headers: bearer(token) });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.challenge).toBe(
      'Bearer realm="directory-api", error="invalid_token", error_description="access token audience is not this API (expected http://localhost:9402/openidm/, got http://localhost:9401/)"',
    );
  });
});
