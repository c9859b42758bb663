/**
 * The profile API: claims per scope (OIDC Core §5.4), PATCH /me kept in the testbed's users (seen
 * by the IdP's own userinfo and ID tokens), CORS, HEAD/OPTIONS, and the call log.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { pino } from 'pino';
import { startTestbed } from '../../src/index.ts';
import { authorize, client, discover, signIn } from '../support/openid.ts';
import { bearer, callApi, PROFILE_API, serviceToken, userTokens, WEB_APP_REDIRECT, webApp } from '../support/resource-servers.ts';
import { SUITE_FIXTURE } from '../support/store.ts';
import { useTestbed } from '../support/testbed.ts';

const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
];

describe('profile API', () => {
  const testbed = useTestbed();
  const url = (path: string) => new URL(path, testbed().urls.profileApi);
  const tokenFor = async (scope: string, login_hint?: string) =>
    (await userTokens(testbed(), PROFILE_API, scope, { login_hint })).tokens.access_token;
  const patchMe = async (token: string, body: string, contentType = 'application/merge-patch+json') =>
    callApi(url('me'), { method: 'PATCH', headers: { ...bearer(token), 'content-type': contentType }, body });

  describe('GET /userinfo and /me', () => {
    it('profile scope: sub and the profile claims only', async () => {
      const response = await callApi(url('userinfo'), { headers: bearer(await tokenFor('profile')) });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(response.body).sort()).toEqual(['sub', ...PROFILE_CLAIMS].sort());
      expect(response.body).toMatchObject({ sub: 'alice', name: 'Alice Example', given_name: 'Alice' });
    });

    it('email scope: sub, email and email_verified', async () => {
      const response = await callApi(url('me'), { headers: bearer(await tokenFor('email')) });
      expect(response.body).toEqual({ sub: 'alice', email: 'alice@example.com', email_verified: true });
    });

    it('address and phone scopes', async () => {
      const response = await callApi(url('userinfo'), { headers: bearer(await tokenFor('address phone')) });
      expect(response.body).toEqual({
        sub: 'alice',
        phone_number: '+1 555 0100',
        phone_number_verified: true,
        address: {
          formatted: '1 Example Street\nSpringfield 12345\nUS',
          street_address: '1 Example Street',
          locality: 'Springfield',
          region: 'Example State',
          postal_code: '12345',
          country: 'US',
        },
      });
    });

    it('/me and /userinfo answer the same', async () => {
      const token = await tokenFor('profile email');
      expect((await callApi(url('me'), { headers: bearer(token) })).body).toEqual(
        (await callApi(url('userinfo'), { headers: bearer(token) })).body,
      );
    });

    it('a client-credentials token (no user): 404 not_found', async () => {
      const token = await serviceToken(testbed(), PROFILE_API, 'profile');
      const response = await callApi(url('userinfo'), { headers: bearer(token) });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        error: 'not_found',
        error_description: 'the token subject service-client is not a user of this testbed (a client credentials token has no profile)',
      });
    });

    it('HEAD answers like GET without a body; OPTIONS lists the methods', async () => {
      const head = await fetch(url('userinfo'), { method: 'HEAD', headers: bearer(await tokenFor('profile')) });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      const unauthenticated = await fetch(url('userinfo'), { method: 'HEAD' });
      expect(unauthenticated.status).toBe(401);
      const options = await fetch(url('me'), { method: 'OPTIONS' });
      expect(options.status).toBe(200);
      expect(options.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'PATCH']);
    });

    it('an unknown route: 404 JSON', async () => {
      const response = await callApi(url('nowhere'));
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: 'not_found', error_description: 'no such route' });
    });
  });

  describe('PATCH /me (profile:write)', () => {
    it('merges claims (RFC 7396), and the IdP userinfo and ID tokens show the change', async () => {
      const token = await tokenFor('profile address profile:write', 'bob');
      const response = await patchMe(
        token,
        JSON.stringify({ given_name: 'Robert', nickname: 'bobby', locale: null, address: { locality: 'Lyon', country: 'FR' } }),
      );
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        sub: 'bob',
        given_name: 'Robert',
        nickname: 'bobby',
        address: { locality: 'Lyon', country: 'FR' },
      });
      expect(response.body.locale).toBeUndefined();

      const patched = await patchMe(token, JSON.stringify({ address: { country: null, postal_code: '69001' } }), 'application/json');
      expect(patched.body.address).toEqual({ locality: 'Lyon', postal_code: '69001' });
      expect((await callApi(url('userinfo'), { headers: bearer(token) })).body).toMatchObject({
        given_name: 'Robert',
        address: { locality: 'Lyon', postal_code: '69001' },
      });

      // The IdP's own userinfo endpoint, with an opaque userinfo token for bob (a sign-in that names no resource).
      const config = await webApp(testbed());
      const { tokens: forUserinfo } = await signIn(config, { redirect_uri: WEB_APP_REDIRECT, scope: 'openid profile', login_hint: 'bob' });
      expect(await client.fetchUserInfo(config, forUserinfo.access_token, 'bob')).toMatchObject({
        sub: 'bob',
        given_name: 'Robert',
        nickname: 'bobby',
      });

      // An ID token that carries profile claims (implicit id_token, as express-openid-connect asks).
      const implicit = await discover(testbed(), 'node-openid-client', 'password');
      const { callbackUrl, nonce } = await authorize(implicit, {
        redirect_uri: 'http://localhost:3000/callback',
        response_type: 'id_token',
        scope: 'openid profile',
        login_hint: 'bob',
      });
      const idToken = new URLSearchParams(callbackUrl.hash.slice(1)).get('id_token');
      expect(decodeJwt(idToken!)).toMatchObject({ sub: 'bob', nonce, given_name: 'Robert', nickname: 'bobby' });
    });

    it('refuses changes to sub and updated_at, unknown claims, non-objects and other media types', async () => {
      const token = await tokenFor('profile profile:write', 'bob');
      const expect400 = async (body: string, description: string) => {
        const response = await patchMe(token, body);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ error: 'invalid_request', error_description: description });
      };
      await expect400('{"sub":"mallory"}', 'sub is set by the server and cannot be changed');
      await expect400('{"updated_at":1}', 'updated_at is set by the server and cannot be changed');
      await expect400(
        '{"favourite_colour":"blue"}',
        expect.stringMatching(/^unknown claim favourite_colour: this API knows /) as unknown as string,
      );
      await expect400('["given_name"]', 'the body must be a JSON object of claims (RFC 7396 merge patch)');
      const malformed = await patchMe(token, '{"given_name":');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('invalid_request');
      const text = await patchMe(token, 'given_name=x', 'text/plain');
      expect(text.status).toBe(415);
    });
  });

  describe('CORS', () => {
    it('a preflight from a fixture client origin is allowed', async () => {
      const response = await fetch(url('userinfo'), {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:5173',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, dpop',
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, HEAD, PATCH, OPTIONS');
      expect(response.headers.get('access-control-allow-headers')).toBe('authorization, dpop');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('vary')).toMatch(/Origin/);
    });

    it('errors carry CORS headers too, exposing WWW-Authenticate', async () => {
      const response = await fetch(url('userinfo'), { headers: { origin: 'http://localhost:3000' } });
      expect(response.status).toBe(401);
      expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      expect(response.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate, DPoP-Nonce');
    });

    it('another origin gets no CORS headers', async () => {
      const response = await fetch(url('userinfo'), {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

describe('profile API: configured CORS origins', () => {
  const testbed = useTestbed({ apis: { corsOrigins: ['https://app.example'] } });

  it('allows exactly the configured origins', async () => {
    const allowed = await fetch(new URL('userinfo', testbed().urls.profileApi), { headers: { origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const fixtureOrigin = await fetch(new URL('userinfo', testbed().urls.profileApi), { headers: { origin: 'http://localhost:5173' } });
    expect(fixtureOrigin.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the API call log', () => {
  it('names the caller (jti, client_id, sub, scope) and never contains the token', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info', base: undefined },
      {
        write: (line: string) => {
          lines.push(line);
        },
      },
    );
    const testbed = await startTestbed({ port: 0, fixture: SUITE_FIXTURE, logger });
    try {
      const { tokens } = await userTokens(testbed, PROFILE_API, 'profile');
      expect((await callApi(new URL('userinfo', testbed.urls.profileApi), { headers: bearer(tokens.access_token) })).status).toBe(200);
      const claims = decodeJwt(tokens.access_token);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.api === 'profile-api');
      expect(entries).toContainEqual(
        expect.objectContaining({
          msg: 'request',
          method: 'GET',
          path: '/userinfo',
          status: 200,
          jti: claims.jti,
          client_id: 'web-app',
          sub: 'alice',
          scope: 'profile',
          scheme: 'Bearer',
          token_format: 'jwt',
        }),
      );
      expect(lines.join('\n')).not.toContain(tokens.access_token);
      expect(lines.join('\n')).not.toContain(tokens.access_token.split('.')[2]);
    } finally {
      await testbed.stop();
    }
  });
});
