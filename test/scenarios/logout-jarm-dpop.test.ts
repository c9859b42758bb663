/**
 * The scenarios openid-client leaves to the application (back-channel logout tokens, the
 * post-logout state, a Bearer answer to a DPoP-proofed request) and the JARM ones it checks:
 * each defect served as the catalog says, and each verdict judged both ways.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import type { FixtureInput } from '../../src/index.ts';
import { hiddenInput, UserAgent } from '../support/agent.ts';
import { useAppServer } from '../support/app-server.ts';
import { formAction, postPageForm } from '../support/interactions.ts';
import { authorize, client, codeRequest, discoverAt, signIn } from '../support/openid.ts';
import { dpopHandle, dpopKey } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const WAIT = { waitMs: 300, timeoutMs: 3000 };

type Failure = { code?: string; cause?: { message?: string } };
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined as Failure | undefined,
    (error: unknown) => error as Failure,
  );

/**
 * How the test's relying party answers a logout token: `correct` validates it as Back-Channel
 * Logout 1.0 §2.6 says; `naive` answers 200 to anything; `paranoid` 400 to anything.
 */
type RpMode = 'correct' | 'naive' | 'paranoid';

describe('back-channel logout scenarios, against a relying party that validates logout tokens', () => {
  const app = useAppServer();
  const rp = {
    mode: 'correct' as RpMode,
    /** Its answer to a token it takes: 200, or 204 as frameworks answer an empty body (§2.8). */
    success: 200,
    /** The run the RP is registered with (a correct RP knows its issuer and its keys' URL). */
    issuer: '',
    jwksUri: '',
    received: [] as string[],
  };
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  /** Back-Channel Logout 1.0 §2.6: a JWT from the issuer to this client, in the ID-token algorithm, with the logout event, no nonce. */
  async function validLogoutToken(token: string): Promise<boolean> {
    let jwks = keySets.get(rp.jwksUri);
    if (!jwks) keySets.set(rp.jwksUri, (jwks = createRemoteJWKSet(new URL(rp.jwksUri))));
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: rp.issuer,
        audience: 'web-app',
        algorithms: ['RS256'], // the client's ID-token algorithm
        requiredClaims: ['iat', 'jti'],
      });
      const events = payload.events as Record<string, unknown> | undefined;
      return (
        typeof events === 'object' &&
        events !== null &&
        BACKCHANNEL_LOGOUT_EVENT in events &&
        !('nonce' in payload) &&
        (typeof payload.sub === 'string' || typeof payload.sid === 'string')
      );
    } catch {
      return false;
    }
  }

  app.serve((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', async () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      rp.received.push(token);
      const valid = rp.mode === 'naive' || (rp.mode === 'correct' && (await validLogoutToken(token)));
      response.writeHead(valid ? rp.success : 400, { 'cache-control': 'no-store', 'content-type': 'application/json' });
      response.end(valid ? '' : JSON.stringify({ error: 'invalid_request' }));
    });
  });

  // suite.yaml's web-app client, its back-channel logout URI on the test's RP.
  const testbed = useTestbed(() => ({
    fixture: {
      issuer: { auto_login: true, id_token_alg: 'RS256', access_token_alg: 'ES256' },
      users: [{ username: 'alice', password: 'alice-password', sub: 'alice', claims: { name: 'Alice Example' } }],
      clients: [
        {
          client_id: 'web-app',
          client_secret: 'web-app-secret',
          client_name: 'Web app with back-channel logout',
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: ['http://localhost:3001/callback'],
          post_logout_redirect_uris: ['http://localhost:3001'],
          backchannel_logout_uri: `${app.origin()}/backchannel-logout`,
          backchannel_logout_session_required: true,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          first_party: true,
        },
      ],
    } as FixtureInput,
    apis: false,
  }));

  /** A fresh run of `name`, the RP pointed at it, a logout of alice triggered: the token the RP got, the testbed's answer and the verdict. */
  async function logOut(name: string, mode: RpMode) {
    const handle = await testbed().scenario(name, { run: randomUUID() });
    const metadata = (await (await fetch(handle.discovery)).json()) as { issuer: string; jwks_uri: string };
    Object.assign(rp, { mode, issuer: metadata.issuer, jwksUri: metadata.jwks_uri, received: [] });
    const trigger = await fetch(`${handle.issuer}/_testbed/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'alice' }),
    });
    expect(trigger.status).toBe(200);
    const { delivered } = (await trigger.json()) as { delivered: Array<{ client_id: string; status: number | string }> };
    expect(rp.received).toHaveLength(1);
    return { handle, metadata, token: rp.received[0], delivered, verdict: await handle.waitForVerdict(WAIT) };
  }

  /** The claims of the valid logout token (oidc-provider's), given the run. */
  const validClaims = (issuer: string): Record<string, unknown> => ({
    iss: issuer,
    aud: 'web-app',
    sub: 'alice',
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    iat: expect.any(Number),
    exp: expect.any(Number),
    jti: expect.any(String),
  });

  it('backchannel-logout: a valid RS256 logout token; the RP answers 200 with no-store and the verdict passes', async () => {
    const { token, delivered, verdict, metadata } = await logOut('backchannel-logout', 'correct');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'logout+jwt' });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri)), { issuer: metadata.issuer });
    expect(payload).toEqual(validClaims(metadata.issuer));
    expect(delivered).toEqual([{ client_id: 'web-app', status: 200 }]);
    expect(verdict.status).toBe('passed');
    expect(verdict.reason).toMatch(/answered 200 to the valid logout token$/);
  });

  it('RP-initiated logout at a run sends the defective logout token too: the RP refuses it (400) and the verdict passes', async () => {
    const handle = await testbed().scenario('backchannel-logout-wrong-aud', { run: randomUUID() });
    const metadata = (await (await fetch(handle.discovery)).json()) as { issuer: string; jwks_uri: string };
    Object.assign(rp, { mode: 'correct', issuer: metadata.issuer, jwksUri: metadata.jwks_uri, received: [] });
    const config = await discoverAt(handle.issuer, 'web-app', 'web-app-secret');
    const { auth, tokens } = await signIn(config, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid', login_hint: 'alice' });
    const endSession = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://localhost:3001',
    });
    const page = await auth.agent.fetch(endSession);
    const html = await page.text();
    const confirmed = await postPageForm(
      auth.agent,
      formAction(html, endSession),
      { xsrf: hiddenInput(html, 'xsrf'), logout: 'yes' },
      'text/html',
    );
    expect(confirmed.status).toBe(303);
    expect(rp.received).toHaveLength(1);
    expect(decodeJwt(rp.received[0])).toMatchObject({ aud: 'web-appINVALID', sid: expect.any(String) });
    const verdict = await handle.waitForVerdict(WAIT);
    expect(verdict.status).toBe('passed');
    expect(verdict.reason).toMatch(/answered 400/);
  });

  it('backchannel-logout passes an RP answering the valid token 204, which §2.8 tells an OP to take for 200', async () => {
    rp.success = 204;
    try {
      const { verdict, delivered } = await logOut('backchannel-logout', 'correct');
      expect(delivered).toEqual([{ client_id: 'web-app', status: 204 }]);
      expect(verdict).toMatchObject({ status: 'passed', reason: 'the relying party answered 204 to the valid logout token' });
    } finally {
      rp.success = 200;
    }
  });

  it('backchannel-logout fails, naming the status, when the RP refuses the valid token', async () => {
    const { verdict, delivered } = await logOut('backchannel-logout', 'paranoid');
    expect(delivered).toEqual([{ client_id: 'web-app', status: 400 }]);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/answered 400 to a valid logout token .*expected 200/);
  });

  /** Each defect: how the token the RP received differs from a valid one (header and claims, everything else unchanged). */
  const DEFECTS: Array<{
    name: string;
    header: Record<string, unknown>;
    claims: (valid: Record<string, unknown>) => Record<string, unknown>;
    /** How the token's signature checks out (with the run's keys). */
    signature: 'empty' | 'RS256' | 'ES256';
  }> = [
    { name: 'backchannel-logout-alg-none', header: { alg: 'none', typ: 'logout+jwt' }, claims: (valid) => valid, signature: 'empty' },
    { name: 'backchannel-logout-wrong-alg', header: { alg: 'ES256', typ: 'logout+jwt' }, claims: (valid) => valid, signature: 'ES256' },
    {
      name: 'backchannel-logout-wrong-aud',
      header: { alg: 'RS256', typ: 'logout+jwt' },
      claims: (valid) => ({ ...valid, aud: 'web-appINVALID' }),
      signature: 'RS256',
    },
    {
      name: 'backchannel-logout-wrong-iss',
      header: { alg: 'RS256', typ: 'logout+jwt' },
      claims: (valid) => ({ ...valid, iss: `${String(valid.iss)}INVALID` }),
      signature: 'RS256',
    },
    {
      name: 'backchannel-logout-no-event',
      header: { alg: 'RS256', typ: 'logout+jwt' },
      claims: ({ events: _events, ...valid }) => valid,
      signature: 'RS256',
    },
    {
      name: 'backchannel-logout-wrong-event',
      header: { alg: 'RS256', typ: 'logout+jwt' },
      claims: (valid) => ({ ...valid, events: { 'http://schemas.openid.net/event/foobar': {} } }),
      signature: 'RS256',
    },
    {
      name: 'backchannel-logout-with-nonce',
      header: { alg: 'RS256', typ: 'logout+jwt' },
      claims: (valid) => ({ ...valid, nonce: 'logout_tokens_must_not_contain_a_nonce' }),
      signature: 'RS256',
    },
  ];

  describe.each(DEFECTS)('$name', ({ name, header, claims, signature }) => {
    it('serves the defect as the catalog says; the validating RP answers 400 and the verdict passes', async () => {
      const { token, delivered, verdict, metadata } = await logOut(name, 'correct');
      expect(decodeProtectedHeader(token)).toEqual({ ...header, ...(signature === 'empty' ? {} : { kid: expect.any(String) }) });
      expect(decodeJwt(token)).toEqual(claims(validClaims(metadata.issuer)));
      const [, , sig] = token.split('.');
      if (signature === 'empty') expect(sig).toBe('');
      else {
        // Validly signed with one of the run's published keys: only the named thing is wrong.
        const jwks = (await (await fetch(metadata.jwks_uri)).json()) as { keys: Array<{ kid: string; alg?: string }> };
        expect(jwks.keys.find((key) => key.kid === decodeProtectedHeader(token).kid)?.alg).toBe(signature);
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri)), { algorithms: [signature] });
        expect(payload.jti).toEqual(expect.any(String));
      }
      expect(delivered).toEqual([{ client_id: 'web-app', status: 400 }]);
      expect(verdict).toMatchObject({ scenario: name, status: 'passed' });
      expect(verdict.reason).toMatch(/answered 400 to the broken logout token/);
    });

    it('fails, naming the status, when the RP answers 200 to anything', async () => {
      const { delivered, verdict } = await logOut(name, 'naive');
      expect(delivered).toEqual([{ client_id: 'web-app', status: 200 }]);
      expect(verdict.status).toBe('failed');
      expect(verdict.reason).toMatch(/answered 200 to the broken logout token .*expected 400/);
    });
  });
});

describe('scenarios on the suite fixture (DPoP, JARM, RP-initiated logout)', () => {
  // suite.yaml: features.dpop and features.jarm on; spa-client (public, PKCE) takes DPoP proofs,
  // node-openid-client may ask for response_mode=jwt (no response_modes restriction).
  const testbed = useTestbed({ apis: false });
  const SPA_REDIRECT = 'http://localhost:5173/callback';
  const RP_REDIRECT = 'http://localhost:3000/callback';

  describe('dpop-token-type-bearer', () => {
    /** A DPoP-proofed code flow on a fresh run, with the raw token response kept. */
    async function dpopLogin() {
      const handle = await testbed().scenario('dpop-token-type-bearer', { run: randomUUID() });
      const config = await discoverAt(handle.issuer, 'spa-client');
      let raw: Record<string, unknown> | undefined;
      config[client.customFetch] = async (url, options) => {
        const response = await fetch(url, options as RequestInit);
        if (new URL(url).pathname.endsWith('/token')) raw = (await response.clone().json()) as Record<string, unknown>;
        return response;
      };
      const key = await dpopKey();
      const DPoP = await dpopHandle(config, key);
      const auth = await authorize(config, { redirect_uri: SPA_REDIRECT, scope: 'openid profile' });
      const tokens = await client.authorizationCodeGrant(
        config,
        auth.callbackUrl,
        { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
        undefined,
        { DPoP },
      );
      return { handle, config, DPoP, tokens, raw: raw! };
    }

    it('answers token_type Bearer to a DPoP-proofed request; openid-client does not notice; passed when nothing follows', async () => {
      const { handle, tokens, raw } = await dpopLogin();
      // On the wire: "Bearer", though the request carried a DPoP proof (RFC 9449 §5 says DPoP).
      expect(raw).toMatchObject({ token_type: 'Bearer', access_token: tokens.access_token });
      // openid-client accepts either token_type (it only lowercases it): no error, nothing to tell.
      expect(tokens.token_type).toBe('bearer');
      const verdict = await handle.waitForVerdict(WAIT);
      expect(verdict.status).toBe('passed');
      expect(verdict.reason).toMatch(/no userinfo, profile-api or directory-api request/);
    });

    it('fails, naming userinfo, when the relying party uses the token (as openid-client does)', async () => {
      const { handle, config, DPoP, tokens } = await dpopLogin();
      // openid-client goes on with DPoP proofs; the token is still bound, so userinfo answers.
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice', { DPoP });
      expect(userinfo.sub).toBe('alice');
      // Only the label lies: the token is DPoP-bound, so as a Bearer token it is refused.
      const verdict = await handle.waitForVerdict(WAIT);
      expect(verdict.status).toBe('failed');
      expect(verdict.reason).toMatch(/userinfo \(GET .*\/me → 200\)/);
      // Only the label lies: the token is DPoP-bound, so sent as a Bearer token it is refused.
      const asBearer = await fetch(config.serverMetadata().userinfo_endpoint!, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(asBearer.status).toBe(401);
    });

    it('leaves a request without a DPoP proof alone: token_type Bearer is right there, and nothing is served', async () => {
      const handle = await testbed().scenario('dpop-token-type-bearer', { run: randomUUID() });
      const config = await discoverAt(handle.issuer, 'spa-client');
      const { tokens } = await signIn(config, { redirect_uri: SPA_REDIRECT, scope: 'openid profile' });
      expect(tokens.token_type).toBe('bearer');
      expect(handle.verdict({ waitMs: 0 })).toMatchObject({ status: 'waiting', defect_served_at: null });
    });
  });

  describe('JARM negatives (openid-client useJwtResponseMode, response_mode=jwt)', () => {
    const JARM: Array<{
      name: string;
      code: string;
      cause: RegExp;
      check: (header: Record<string, unknown>, claims: JWTPayload, jwt: string, issuer: string) => void;
    }> = [
      {
        name: 'jarm-invalid-iss',
        code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
        cause: /"iss"/,
        check: (_header, claims, _jwt, issuer) => expect(claims.iss).toBe(`${issuer}1`),
      },
      {
        name: 'jarm-missing-iss',
        code: 'OAUTH_INVALID_RESPONSE',
        cause: /"iss"/,
        check: (_header, claims) => {
          expect(claims).not.toHaveProperty('iss');
          expect(claims).toMatchObject({ aud: 'node-openid-client', exp: expect.any(Number) });
        },
      },
      {
        name: 'jarm-missing-aud',
        code: 'OAUTH_INVALID_RESPONSE',
        cause: /"aud"/,
        check: (_header, claims, _jwt, issuer) => {
          expect(claims).not.toHaveProperty('aud');
          expect(claims.iss).toBe(issuer);
        },
      },
      {
        name: 'jarm-invalid-aud',
        code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
        cause: /"aud"/,
        check: (_header, claims, _jwt, issuer) => expect(claims).toMatchObject({ aud: 'node-openid-client1', iss: issuer }),
      },
      {
        name: 'jarm-expired',
        code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
        cause: /"exp"/,
        check: (_header, claims) => {
          // 360 s ago (the OIDF suite's value), beyond openid-client's 30 s clock tolerance.
          const ago = Math.floor(Date.now() / 1000) - (claims.exp ?? 0);
          expect(ago).toBeGreaterThanOrEqual(355);
          expect(ago).toBeLessThan(380);
        },
      },
      {
        name: 'jarm-missing-exp',
        code: 'OAUTH_INVALID_RESPONSE',
        cause: /"exp"/,
        check: (_header, claims) => expect(claims).not.toHaveProperty('exp'),
      },
      {
        name: 'jarm-invalid-sig',
        code: 'OAUTH_INVALID_RESPONSE',
        cause: /signature/,
        check: (header) => expect(header).toMatchObject({ alg: 'RS256', kid: expect.any(String) }),
      },
      {
        name: 'jarm-alg-none',
        code: 'OAUTH_INVALID_RESPONSE',
        cause: /unexpected JWT "alg"/,
        check: (header, _claims, jwt) => {
          expect(header).toEqual({ alg: 'none' });
          expect(jwt.endsWith('.')).toBe(true);
        },
      },
    ];

    /** A JARM login on a fresh run: the response JWT and what openid-client made of it. */
    async function jarmLogin(name: string) {
      const handle = await testbed().scenario(name, { run: randomUUID() });
      const config = await discoverAt(handle.issuer, 'node-openid-client', 'password');
      client.useJwtResponseMode(config);
      const { parameters, codeVerifier } = await codeRequest(RP_REDIRECT);
      const url = client.buildAuthorizationUrl(config, parameters);
      expect(url.searchParams.get('response_mode')).toBe('jwt');
      const { url: callbackUrl } = await new UserAgent().follow(url, RP_REDIRECT);
      const jwt = callbackUrl.searchParams.get('response')!;
      const failure = await failureOf(
        client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: codeVerifier,
          expectedState: parameters.state,
          expectedNonce: parameters.nonce,
        }),
      );
      return { handle, jwt, failure, codeVerifier, parameters };
    }

    describe.each(JARM)('$name', ({ name, code, cause, check }) => {
      it(`openid-client rejects the response JWT (${code}) before any token request; the verdict passes`, async () => {
        const { handle, jwt, failure } = await jarmLogin(name);
        check(decodeProtectedHeader(jwt) as Record<string, unknown>, decodeJwt(jwt), jwt, handle.issuer);
        expect(decodeJwt(jwt)).toMatchObject({ code: expect.any(String) });
        expect(failure?.code).toBe(code);
        expect(failure?.cause?.message).toMatch(cause);
        const verdict = await handle.waitForVerdict(WAIT);
        expect(verdict.status).toBe('passed');
        expect(verdict.requests.map((request) => request.endpoint)).not.toContain('token');
      });

      it('fails, naming the token request, when the RP takes the code out of the JWT anyway', async () => {
        const { handle, jwt, codeVerifier, parameters } = await jarmLogin(name);
        const plain = await discoverAt(handle.issuer, 'node-openid-client', 'password');
        const callback = new URL(RP_REDIRECT);
        callback.search = new URLSearchParams({
          code: String(decodeJwt(jwt).code),
          state: parameters.state,
          iss: handle.issuer,
        }).toString();
        await client.authorizationCodeGrant(plain, callback, {
          pkceCodeVerifier: codeVerifier,
          expectedState: parameters.state,
          expectedNonce: parameters.nonce,
        });
        const verdict = await handle.waitForVerdict(WAIT);
        expect(verdict.status).toBe('failed');
        expect(verdict.reason).toMatch(/called token \(POST/);
      });
    });
  });

  describe('dpop-nonce-required (positive)', () => {
    it('openid-client retries the use_dpop_nonce answer with the nonce it was given, completes login and userinfo; the run passes', async () => {
      const handle = await testbed().scenario('dpop-nonce-required', { run: randomUUID() });
      const config = await discoverAt(handle.issuer, 'spa-client');
      /** Each request openid-client sent: the endpoint, the nonce its DPoP proof carried, and the answer. */
      const seen: Array<{ endpoint?: string; proofNonce?: unknown; status: number; error?: unknown; nonce: string | null }> = [];
      config[client.customFetch] = async (url, options) => {
        const proof = new Headers(options.headers as HeadersInit).get('dpop');
        const response = await fetch(url, options as RequestInit);
        const json = response.status === 400 && response.headers.get('content-type')?.includes('json');
        seen.push({
          endpoint: new URL(url).pathname.split('/').at(-1),
          proofNonce: proof ? decodeJwt(proof).nonce : undefined,
          status: response.status,
          error: json ? ((await response.clone().json()) as { error?: string }).error : undefined,
          nonce: response.headers.get('dpop-nonce'),
        });
        return response;
      };
      const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
      const auth = await authorize(config, { redirect_uri: SPA_REDIRECT, scope: 'openid profile' });
      const tokens = await client.authorizationCodeGrant(
        config,
        auth.callbackUrl,
        { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
        undefined,
        { DPoP },
      );
      expect(tokens.token_type).toBe('dpop');
      expect(await client.fetchUserInfo(config, tokens.access_token, 'alice', { DPoP })).toMatchObject({ sub: 'alice' });

      const tokenRequests = seen.filter((request) => request.endpoint === 'token');
      expect(tokenRequests).toHaveLength(2);
      // The first proof had no nonce: 400 use_dpop_nonce with the nonce to use (RFC 9449 §8).
      expect(tokenRequests[0]).toMatchObject({ proofNonce: undefined, status: 400, error: 'use_dpop_nonce', nonce: expect.any(String) });
      expect(tokenRequests[1]).toMatchObject({ proofNonce: tokenRequests[0].nonce, status: 200 });
      const userinfo = seen.filter((request) => request.endpoint === 'me');
      expect(userinfo.at(-1)).toMatchObject({ proofNonce: expect.any(String), status: 200 });

      const verdict = await handle.waitForVerdict(WAIT);
      expect(verdict).toMatchObject({ scenario: 'dpop-nonce-required', status: 'passed' });
      expect(verdict.reason).toMatch(/userinfo \(GET \S*\/me → 200\)/);
    });
  });

  describe('post-logout state (RP-initiated logout with state and post_logout_redirect_uri)', () => {
    /** Signs alice in on a fresh run, then GETs end_session and confirms on the logout page: the redirect the testbed sends. */
    async function logOut(name: string) {
      const handle = await testbed().scenario(name, { run: randomUUID() });
      const config = await discoverAt(handle.issuer, 'node-openid-client', 'password');
      const { auth, tokens } = await signIn(config, { redirect_uri: RP_REDIRECT, scope: 'openid' });
      const state = client.randomState();
      const endSession = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'http://localhost:3000',
        state,
      });
      const page = await auth.agent.fetch(endSession);
      expect(page.status).toBe(200);
      const html = await page.text();
      const confirmed = await postPageForm(
        auth.agent,
        formAction(html, endSession),
        { xsrf: hiddenInput(html, 'xsrf'), logout: 'yes' },
        'text/html',
      );
      expect(confirmed.status).toBe(303);
      const location = new URL(confirmed.headers.get('location')!);
      expect(location.origin + location.pathname).toBe('http://localhost:3000/');
      return { handle, state, location };
    }

    it('rp-init-logout (no defect) keeps the state', async () => {
      const { handle, state, location } = await logOut('rp-init-logout');
      expect(location.searchParams.get('state')).toBe(state);
      expect((await handle.waitForVerdict(WAIT)).status).toBe('passed');
    });

    it('rp-init-logout-no-state: the redirect has no state; either outcome passes once served', async () => {
      const { handle, location } = await logOut('rp-init-logout-no-state');
      expect(location.searchParams.has('state')).toBe(false);
      const verdict = await handle.waitForVerdict(WAIT);
      expect(verdict.status).toBe('passed');
      expect(verdict.reason).toMatch(/post-logout redirect/);
    });

    it('rp-init-logout-other-state: the redirect state is the sent one + "_INVALID"', async () => {
      const { handle, state, location } = await logOut('rp-init-logout-other-state');
      expect(location.searchParams.getAll('state')).toEqual([`${state}_INVALID`]);
      const verdict = await handle.waitForVerdict(WAIT);
      expect(verdict.status).toBe('passed');
      expect(verdict.reason).toMatch(/post-logout redirect/);
    });
  });
});
