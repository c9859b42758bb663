import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FixtureError, startTestbed } from '../../src/index.ts';
import { basicAuthorization, formRequest, postForm, readJson } from '../support/http.ts';
import { authorize, client, discover } from '../support/openid.ts';
import { rawRequest } from '../support/raw-http.ts';
import { bearer, DIRECTORY_API, serviceToken } from '../support/resource-servers.ts';
import { fixturePath, type RecordedTestbed, startRecordedTestbed, useTestbed } from '../support/testbed.ts';

const REDIRECT_URI = 'http://localhost:3000/callback';
const SEED: [string, string] = ['node-openid-client', 'password'];

/** An authorization request built by hand (no library would send these mistakes). */
function authorizationUrl(endpoint: string, parameters: Record<string, string>): string {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    scope: 'openid',
    state: 'st4te',
    login_hint: 'alice',
    ...parameters,
  }).toString();
  return url.href;
}

describe('bad input: every mistake gets its status and error code, never a 500', () => {
  const testbed = useTestbed();
  const tokenRequest = (form: Record<string, string> | string, basic: [string, string] | undefined = SEED) =>
    postForm(testbed().urls.token, form, { basic });

  /** A code for the seed client, and the PKCE verifier that goes with it. */
  const freshCode = async () => {
    const auth = await authorize(await discover(testbed(), ...SEED), { redirect_uri: REDIRECT_URI, scope: 'openid' });
    return { code: auth.callbackUrl.searchParams.get('code')!, verifier: auth.codeVerifier };
  };

  describe('unknown client', () => {
    it('at the token endpoint: 401 invalid_client', async () => {
      const { status, body } = await tokenRequest({ grant_type: 'client_credentials' }, ['nobody', 'secret']);
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('at the authorization endpoint: an HTML error page (400), no redirect', async () => {
      const response = await fetch(authorizationUrl(testbed().urls.authorization, { client_id: 'nobody', redirect_uri: REDIRECT_URI }), {
        redirect: 'manual',
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('<code>invalid_client</code>');
    });
  });

  it('wrong client secret: 401 invalid_client', async () => {
    const { status, body } = await tokenRequest({ grant_type: 'client_credentials' }, ['node-openid-client', 'not-the-password']);
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('unregistered redirect_uri: an HTML error page naming invalid_redirect_uri (400), no redirect', async () => {
    const response = await fetch(
      authorizationUrl(testbed().urls.authorization, { client_id: 'node-openid-client', redirect_uri: 'http://localhost:3000/elsewhere' }),
      { redirect: 'manual' },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const html = await response.text();
    expect(html).toContain('<code>invalid_redirect_uri</code>');
    expect(html).toContain('redirect_uris');
  });

  describe('PKCE (S256 only; required for public clients and, unless the fixture opts out, every client)', () => {
    it.each([
      ['a public client (spa-client)', 'spa-client', 'http://localhost:5173/callback'],
      ['a confidential client (node-openid-client)', 'node-openid-client', REDIRECT_URI],
    ])('missing code_challenge for %s: error redirect with invalid_request', async (_case, clientId, redirectUri) => {
      const response = await fetch(authorizationUrl(testbed().urls.authorization, { client_id: clientId, redirect_uri: redirectUri }), {
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(redirectUri);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
      expect(location.searchParams.get('state')).toBe('st4te');
      expect(location.searchParams.get('iss')).toBe(testbed().issuer);
    });

    it('code_challenge_method=plain: error redirect with invalid_request', async () => {
      const response = await fetch(
        authorizationUrl(testbed().urls.authorization, {
          client_id: 'spa-client',
          redirect_uri: 'http://localhost:5173/callback',
          code_challenge: 'a'.repeat(43),
          code_challenge_method: 'plain',
        }),
        { redirect: 'manual' },
      );
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    });

    it('wrong code_verifier: invalid_grant', async () => {
      const { code } = await freshCode();
      const { status, body } = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: client.randomPKCECodeVerifier(),
      });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });

    it('missing code_verifier: invalid_grant', async () => {
      const { code } = await freshCode();
      const { status, body } = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });
  });

  describe('authorization codes', () => {
    it('a reused code: invalid_grant, and the tokens issued from it are revoked', async () => {
      const { code, verifier } = await freshCode();
      const exchange = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
      const first = await tokenRequest(exchange);
      expect(first.status).toBe(200);
      const { access_token, refresh_token } = first.body as { access_token: string; refresh_token: string };
      const introspect = async (token: string) => (await postForm(testbed().urls.introspection, { token }, { basic: SEED })).body;
      expect((await introspect(refresh_token)).active).toBe(true);

      const second = await tokenRequest(exchange);
      expect(second.status).toBe(400);
      expect(second.body.error).toBe('invalid_grant');
      expect(await introspect(access_token)).toEqual({ active: false });
      expect(await introspect(refresh_token)).toEqual({ active: false });
    });

    it('a code sent with another redirect_uri: invalid_grant', async () => {
      const { code, verifier } = await freshCode();
      const { status, body } = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://localhost:3000/forgerock/redirect',
        code_verifier: verifier,
      });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });

    it('a code redeemed by another client: invalid_grant', async () => {
      const { code, verifier } = await freshCode();
      const { status, body } = await tokenRequest(
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
        ['web-app', 'web-app-secret'],
      );
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });
  });

  describe('token endpoint parameters', () => {
    it('an unknown resource: invalid_target', async () => {
      const { status, body } = await tokenRequest({ grant_type: 'client_credentials', resource: 'http://localhost:9999/unknown/' });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_target');
    });

    it('a resource that is not an absolute URI: invalid_target', async () => {
      const { status, body } = await tokenRequest({ grant_type: 'client_credentials', resource: 'profile-api' });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_target');
    });

    it.each(['urn:example:no-such-grant', 'urn:ietf:params:oauth:grant-type:saml2-bearer'])(
      'an unsupported grant type (%s): unsupported_grant_type',
      async (grantType) => {
        const { status, body } = await tokenRequest({ grant_type: grantType, username: 'alice', password: 'alice-password' });
        expect(status).toBe(400);
        expect(body.error).toBe('unsupported_grant_type');
      },
    );

    it('a grant type the client is not registered for: unauthorized_client (RFC 6749 §5.2)', async () => {
      const { status, body } = await tokenRequest({ grant_type: 'password', username: 'alice', password: 'alice-password' });
      expect(status).toBe(400);
      expect(body.error).toBe('unauthorized_client');
    });

    it('no grant_type: invalid_request', async () => {
      const { status, body } = await tokenRequest({ scope: 'openid' });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });
  });

  describe('malformed form bodies: 400 with a JSON error', () => {
    const endpoints = () => [testbed().urls.token, testbed().urls.introspection, testbed().urls.revocation];

    it('a JSON or text/plain body at the token, introspection and revocation endpoints', async () => {
      for (const url of endpoints()) {
        for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'text/plain' }]) {
          const response = await fetch(url, {
            method: 'POST',
            headers: { ...headers, authorization: basicAuthorization(...SEED) },
            body: JSON.stringify({ grant_type: 'client_credentials', token: 'x' }),
          });
          const { status, body } = await readJson(response);
          expect({ url, status, error: body.error }).toEqual({ url, status: 400, error: 'invalid_request' });
          expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        }
      }
    });

    it('broken percent-encoding in HTTP Basic credentials (RFC 6749 §2.3.1 form-encodes them)', async () => {
      const response = await formRequest(
        testbed().urls.token,
        { grant_type: 'client_credentials' },
        { headers: { authorization: `Basic ${Buffer.from('node-openid-client:%ZZ').toString('base64')}` } },
      );
      const { status, body } = await readJson(response);
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });

    it('a broken percent-encoded value is refused, not guessed at', async () => {
      const { status, body } = await tokenRequest('grant_type=client%5Fcredential%');
      expect(status).toBe(400);
      expect(body.error).toBe('unsupported_grant_type');
      const garbled = await tokenRequest('grant_type=%E0%A4%A');
      expect(garbled.status).toBe(400);
      expect(garbled.body.error).toBe('unsupported_grant_type');
    });

    it('duplicated parameters', async () => {
      const token = await tokenRequest('grant_type=client_credentials&grant_type=client_credentials');
      expect(token.status).toBe(400);
      expect(token.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/grant_type/) });
      for (const url of [testbed().urls.introspection, testbed().urls.revocation]) {
        const { status, body } = await postForm(url, 'token=one&token=two', { basic: SEED });
        expect({ url, status, error: body.error }).toEqual({ url, status: 400, error: 'invalid_request' });
      }
    });

    it('a huge body, and the server keeps answering afterwards', async () => {
      const huge = `grant_type=client_credentials&token=${'a'.repeat(1024 * 1024)}`;
      for (const url of endpoints()) {
        const { status, body } = await postForm(url, huge, { basic: SEED });
        expect({ url, status, error: body.error }).toEqual({ url, status: 400, error: 'invalid_request' });
        const next = await postForm(testbed().urls.introspection, { token: 'after-a-huge-body' }, { basic: SEED });
        expect(next).toMatchObject({ status: 200, body: { active: false } });
      }
    });
  });
  describe('a Host or X-Forwarded-* header that makes no URL (found by test/fuzz): 400 invalid_request', () => {
    /** A GET with these headers, over a raw socket (fetch sets Host itself). */
    const get = async (url: string, headers: Array<[string, string]>) => {
      const { pathname, search } = new URL(url);
      const outcome = await rawRequest(
        url,
        { method: 'GET', target: pathname + search, headers: [...headers, ['Accept', 'application/json']] },
        5000,
      );
      if (outcome.kind !== 'response') throw new Error(`no answer: ${outcome.kind}`);
      return { status: outcome.response.status, body: JSON.parse(outcome.response.body.toString()) as Record<string, unknown> };
    };
    const unusable: Array<[string, string]> = [
      ['Host', 'localhost:99999'],
      ['Host', '[::1'],
      ['X-Forwarded-Host', 'a b'],
      ['X-Forwarded-Proto', 'https:'],
      ['X-Forwarded-Proto', 'junk'],
    ];

    it.each(unusable)('%s: %s at discovery, the device page and end_session, of both issuers', async (name, value) => {
      const urls = [testbed().urls, testbed().issuers['/fapi2'].urls].flatMap((issuer) => [
        issuer.discovery,
        issuer.deviceVerification,
        issuer.endSession,
      ]);
      for (const url of urls) {
        const { status, body } = await get(url, [[name, value]]);
        expect({ url, status, error: body.error }).toEqual({ url, status: 400, error: 'invalid_request' });
      }
    });

    it('a request target that is no path (//jwks?@#, found by test/fuzz with FUZZ_SEED=11): 400 invalid_request', async () => {
      const outcome = await rawRequest(
        testbed().urls.jwks,
        { method: 'GET', target: '//jwks?@#', headers: [['Accept', 'application/json']] },
        5000,
      );
      if (outcome.kind !== 'response') throw new Error(`no answer: ${outcome.kind}`);
      expect({ status: outcome.response.status, body: JSON.parse(outcome.response.body.toString()) as unknown }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: expect.any(String) },
      });
    });

    it("a proxy's X-Forwarded-Proto: https and X-Forwarded-Host still work", async () => {
      const { status, body } = await get(testbed().urls.discovery, [
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'idp.example'],
      ]);
      expect(status).toBe(200);
      expect(body.issuer).toBe(testbed().issuer);
    });
  });
  describe('a path or method the IdP does not serve (found by test/fuzz): a JSON 404', () => {
    it.each([
      ['GET', '/no-such-endpoint'],
      ['GET', '/token'],
      ['DELETE', '/jwks'],
      ['GET', '/fapi2/no-such-endpoint'],
    ])('%s %s', async (method, path) => {
      const response = await fetch(`${new URL(testbed().issuer).origin}${path}`, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
    });
  });

  describe("a body the mock APIs cannot parse (found by test/fuzz): 400 in each API's error shape", () => {
    const send = (url: string, body: string) => fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });

    it.each([
      ['a=b', 'the body must be a JSON object or array'],
      ['{"givenName":', 'the body is not valid JSON'],
      ['"text"', 'the body must be a JSON object or array'],
    ])("directory API, PUT managed/user/alice with %j as JSON: IDM's { code, reason, message }", async (body, message) => {
      const { status, body: answer } = await readJson(await send(`${testbed().urls.directoryApi}managed/user/alice`, body));
      expect(status).toBe(400);
      expect(answer).toEqual({ code: 400, reason: 'Bad Request', message });
    });

    it('profile API, PATCH /me with a form as JSON: an OAuth JSON error', async () => {
      const response = await fetch(`${testbed().urls.profileApi}me`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: 'a=b',
      });
      const { status, body } = await readJson(response);
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_request');
    });
  });
  describe("a method a mock API route does not serve (found by test/fuzz): 405 with Allow, in the API's error shape", () => {
    it.each(['DELETE', 'POST', 'PROPFIND'])("%s on the profile API's /me and the directory API's managed/user/alice", async (method) => {
      const profile = await fetch(`${testbed().urls.profileApi}me`, { method });
      expect(profile.status).toBe(405);
      expect(profile.headers.get('allow')).toMatch(/GET.*PATCH/);
      expect((await readJson(profile)).body.error).toBe('invalid_request');

      const directory = await fetch(`${testbed().urls.directoryApi}managed/user/alice`, { method });
      expect(directory.status).toBe(405);
      expect(directory.headers.get('allow')).toMatch(/GET.*PUT.*PATCH/);
      expect((await readJson(directory)).body).toMatchObject({
        code: 405,
        reason: 'Method Not Allowed',
        message: expect.stringContaining(method),
      });
    });
  });
  it('a directory API field named like an Object.prototype member (constructor, toString): 400 unknown field, not a 200 that writes a junk claim', async () => {
    const token = await serviceToken(testbed(), DIRECTORY_API, 'fr:idm:*');
    const user = `${testbed().urls.directoryApi}managed/user/bob`;
    const send = (method: 'PATCH' | 'PUT', body: unknown) =>
      fetch(user, { method, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const field of ['constructor', 'toString', '__proto__']) {
      for (const response of [
        await send('PATCH', [{ operation: 'replace', field, value: 'x' }]),
        await send('PUT', { [field]: 'x', givenName: 'Bob' }),
      ]) {
        const { status, body } = await readJson(response);
        expect({ field, status, message: body.message }).toEqual({
          field,
          status: 400,
          message: expect.stringContaining(`Unknown field ${field}`),
        });
      }
    }
  });

  it('a token the mock APIs take for opaque and the issuer for a JWT (found by test/fuzz): 401 invalid_token, not a 500', async () => {
    // Its last part is not base64url, so the APIs introspect it; its first part decodes as a JOSE
    // header, so the issuer will not introspect it (400 unsupported_token_type).
    const token = `${Buffer.from('{"alg":"ES256","typ":"at+jwt"}').toString('base64url')}.e30.signature%C0%80`;
    for (const api of [`${testbed().urls.profileApi}me`, `${testbed().urls.directoryApi}info/login`]) {
      const response = await fetch(`${api}?access_token=${token}`);
      const { status, body } = await readJson(response);
      expect({ api, status, error: body.error }).toEqual({ api, status: 401, error: 'invalid_token' });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    }
  });
});

describe('a body the client cuts off (found by test/fuzz): logged as the 400 it is, not a 500', () => {
  let recorded: RecordedTestbed;
  beforeAll(async () => {
    recorded = await startRecordedTestbed({ apis: false });
  });
  afterAll(() => recorded.stop());

  // Introspection and revocation read the body before oidc-provider (JWT access tokens), and so
  // does the authorization endpoint (request_uri by reference); the client closes its side after
  // 9 of the 100 bytes its Content-Length announced: the server can only log what happened.
  it.each(['introspection', 'revocation', 'authorization'] as const)('at the %s endpoint', async (endpoint) => {
    const url = new URL(recorded.testbed.urls[endpoint]);
    const body = Buffer.from('token=abc');
    const outcome = await rawRequest(
      url.href,
      {
        method: 'POST',
        target: url.pathname,
        headers: [
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Content-Length', '100'],
        ],
        body,
        truncateAt: body.length,
      },
      5000,
    );
    expect(outcome.kind).not.toBe('timeout');
    let logged: Array<{ path: string; status: number }> = [];
    for (let wait = 0; wait < 50 && logged.length === 0; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      logged = recorded.requests.filter((request) => request.path === url.pathname);
    }
    expect(logged.map((request) => request.status)).toEqual([400]);
  });
});

describe('expired codes (test fixture short-code-ttl.yaml: 1 second)', () => {
  const testbed = useTestbed({ fixture: fixturePath('short-code-ttl.yaml') });

  it('answers invalid_grant', async () => {
    const config = await discover(testbed(), 'web', 'web-secret');
    const auth = await authorize(config, { redirect_uri: 'http://localhost:3000/callback', scope: 'openid' });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const { status, body } = await postForm(
      testbed().urls.token,
      {
        grant_type: 'authorization_code',
        code: auth.callbackUrl.searchParams.get('code')!,
        redirect_uri: 'http://localhost:3000/callback',
        code_verifier: auth.codeVerifier,
      },
      { basic: ['web', 'web-secret'] },
    );
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('an expired device code answers expired_token (RFC 8628 §3.5)', async () => {
    const started = await postForm(testbed().urls.deviceAuthorization, { client_id: 'tv', scope: 'openid' });
    expect(started.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const { status, body } = await postForm(testbed().urls.token, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: started.body.device_code as string,
      client_id: 'tv',
    });
    expect(status).toBe(400);
    expect(body.error).toBe('expired_token');
  });
});

describe('a bad fixture file', () => {
  it('stops start-up with a FixtureError naming the file, the path inside it and the fix', async () => {
    const file = fixturePath('bad-redirect-uri.yaml');
    const error = await startTestbed({ port: 0, fixture: file }).then(
      async (testbed) => {
        await testbed.stop();
        throw new Error('the testbed started with a bad fixture');
      },
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(FixtureError);
    if (!(error instanceof FixtureError)) return;
    expect(error.message).toContain(file);
    expect(error.message).toContain('clients[2].redirect_uris[0]');
    expect(error.message).toContain('must be an absolute URL (e.g. "http://localhost:3000/callback")');
    expect(error.message).toContain('(line 16)');
    expect(error.problems).toHaveLength(1);
  });
});
