/**
 * openid-client 6 against the conformance scenarios, one fresh run per case: each negative it
 * detects is rejected with the error the research notes give (code, and the claim or parameter
 * named in the cause), and because nothing is called after the defect the verdict is `passed`;
 * the positive ones complete. Two negatives are played again by a relying party that ignores the
 * error and calls the forbidden endpoint anyway: those runs fail, naming it.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import type { Testbed } from '../../src/index.ts';
import type { ScenarioHandle } from '../../src/scenarios/handle.ts';
import { type AuthorizationResult, authorize, client, discoverAt } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

/** What a case does after discovery, in order; a negative case expects its last step to throw. */
type Step = 'discovery' | 'login' | 'refresh' | 'userinfo';

interface Case {
  scenario: string;
  steps: readonly Step[];
  /** node-openid-client (secret, scope offline_access) instead of spa-client (public). */
  refreshing?: boolean;
  /** `client.enableNonRepudiationChecks(config)`: ID token signatures verified. */
  nonRepudiation?: boolean;
  /** node-openid-client (with its secret) without refreshing. */
  confidential?: boolean;
  /** Client metadata given to discovery (e.g. a pinned `id_token_signed_response_alg`). */
  metadata?: Partial<client.ClientMetadata>;
}

/** A case's key among the runs (a scenario may be played twice, with and without client metadata). */
const caseKey = ({ scenario, metadata }: Case) => (metadata ? `${scenario} ${JSON.stringify(metadata)}` : scenario);

interface Rejection extends Case {
  code: string;
  /** Matched against the error's `cause` (an Error from oauth4webapi, a plain object for discovery). */
  cause: Record<string, unknown>;
}

interface Outcome {
  handle: ScenarioHandle;
  /** The steps that completed. */
  done: Step[];
  failure?: { step: Step; code?: string; message?: string; cause?: unknown };
  config?: client.Configuration;
  auth?: AuthorizationResult;
  /** The token endpoint's last JSON answer, as the wire carried it (read even when openid-client then threw). */
  tokenBody?: TokenBody;
  /** Every JSON answer of the token endpoint, in order. */
  tokenBodies: TokenBody[];
  /** The ID token claims openid-client returned, per completed login or refresh. */
  claims: Array<client.IDToken | undefined>;
}

type TokenBody = { access_token?: string; id_token?: string; refresh_token?: string };

const SPA = { client_id: 'spa-client', redirect_uri: 'http://localhost:5173/callback', scope: 'openid profile' };
const NODE = {
  client_id: 'node-openid-client',
  secret: 'password',
  redirect_uri: 'http://localhost:3000/callback',
  scope: 'openid profile offline_access',
};

const LOGIN: readonly Step[] = ['login'];
/** A rejection whose cause is an oauth4webapi error: `message` names the claim or parameter. */
const rejects = (scenario: string, code: string, message: RegExp, extra: Partial<Case> = {}): Rejection => ({
  scenario,
  steps: LOGIN,
  code,
  cause: { message: expect.stringMatching(message) },
  ...extra,
});
const MISMATCH = 'OAUTH_JWT_CLAIM_COMPARISON_FAILED';
const INVALID = 'OAUTH_INVALID_RESPONSE';

const REJECTIONS: readonly Rejection[] = [
  rejects('id-token-invalid-iss', MISMATCH, /^unexpected JWT "iss" \(issuer\) claim value/),
  rejects('id-token-missing-iss', INVALID, /^JWT "iss" \(issuer\) claim missing/),
  rejects('id-token-invalid-aud', MISMATCH, /^unexpected JWT "aud" \(audience\) claim value/),
  rejects('id-token-missing-aud', INVALID, /^JWT "aud" \(audience\) claim missing/),
  rejects('id-token-untrusted-aud', MISMATCH, /"aud" \(audience\) claim includes additional untrusted audiences/),
  rejects('id-token-missing-sub', INVALID, /^JWT "sub" \(subject\) claim missing/),
  rejects('id-token-missing-iat', INVALID, /^JWT "iat" \(issued at\) claim missing/),
  rejects('id-token-missing-exp', INVALID, /^JWT "exp" \(expiration time\) claim missing/),
  rejects('id-token-expired', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', /"exp" .*expiration is past current timestamp/),
  rejects('id-token-invalid-nonce', MISMATCH, /^unexpected ID Token "nonce" claim value/),
  rejects('id-token-missing-nonce', INVALID, /^JWT "nonce" \(nonce\) claim missing/),
  rejects('id-token-alternate-alg', INVALID, /^unexpected JWT "alg" header parameter/),
  // openid-client checks code-flow ID token signatures only when asked to.
  rejects('id-token-invalid-sig-rs256', INVALID, /^JWT signature verification failed/, { nonRepudiation: true }),
  rejects('id-token-invalid-sig-es256', INVALID, /^JWT signature verification failed/, { nonRepudiation: true }),
  // openid-client refuses to check HS* signatures at all (valid or not); the client has the secret that keys the MAC.
  {
    scenario: 'id-token-invalid-sig-hs256',
    steps: LOGIN,
    nonRepudiation: true,
    confidential: true,
    code: 'OAUTH_UNSUPPORTED_OPERATION',
    cause: { message: 'unsupported JWS algorithm', cause: { alg: 'HS256' } },
  },
  // Discovery lists none beside RS256: only a client that pins its algorithm refuses (unpinned, see COMPLETIONS).
  rejects('id-token-alg-none', INVALID, /^unexpected JWT "alg" header parameter/, {
    metadata: { id_token_signed_response_alg: 'RS256' },
  }),
  // Judged either: refusing is one of the two ways to pass.
  rejects(
    'kid-absent-multiple-jwks',
    'OAUTH_KEY_SELECTION_FAILED',
    /multiple applicable keys found, a "kid" JWT Header Parameter is required/,
    { nonRepudiation: true },
  ),
  {
    scenario: 'discovery-issuer-mismatch',
    steps: [],
    code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
    // openid-client's own check: the cause is a plain object naming the attribute.
    cause: { attribute: 'issuer', body: expect.objectContaining({ issuer: expect.stringMatching(/INVALID$/) }) },
  },
  // Thrown by authorizationCodeGrant before it sends the code (the verdict would see a token request).
  rejects('authorization-response-invalid-iss', INVALID, /^unexpected "iss" \(issuer\) response parameter value/),
  rejects('authorization-response-missing-iss', INVALID, /^response parameter "iss" \(issuer\) missing/),
  rejects('authorization-response-invalid-state', INVALID, /^unexpected "state" response parameter value/),
  rejects('authorization-response-missing-state', INVALID, /^response parameter "state" missing/),
  rejects('refresh-token-invalid-iss', MISMATCH, /^unexpected JWT "iss" \(issuer\) claim value/, {
    steps: ['login', 'refresh'],
    refreshing: true,
  }),
  rejects('userinfo-invalid-sub', 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', /^unexpected "response" body "sub" property value/, {
    steps: ['login', 'userinfo'],
  }),
];

const COMPLETIONS: readonly Case[] = [
  { scenario: 'id-token-sig-rs256', steps: ['login', 'userinfo'] },
  { scenario: 'aud-as-array', steps: ['login', 'userinfo'] },
  { scenario: 'token-response-without-expires-in', steps: ['login', 'userinfo'] },
  { scenario: 'token-type-case-insensitive', steps: ['login', 'userinfo'] },
  // With signatures checked, so that the one RSA key without a kid is really chosen.
  { scenario: 'kid-absent-single-jwks', steps: ['login', 'userinfo'], nonRepudiation: true },
  { scenario: 'refresh-token', steps: ['login', 'refresh', 'userinfo'], refreshing: true },
  // Judged either: accepting the unsecured ID token (the client pinned no algorithm, discovery lists none) passes too.
  { scenario: 'id-token-alg-none', steps: ['login', 'userinfo'] },
];

/** Plays `steps` against a fresh run of the scenario, stopping at the first error (kept, with where). */
async function play(testbed: Testbed, { scenario, steps, refreshing, nonRepudiation, confidential, metadata }: Case): Promise<Outcome> {
  const handle = await testbed.scenario(scenario, { run: randomUUID() });
  const rp = refreshing || confidential ? NODE : SPA;
  const outcome: Outcome = { handle, done: [], tokenBodies: [], claims: [] };
  let step: Step = 'discovery';
  try {
    const secret = rp === NODE ? NODE.secret : undefined;
    const config = metadata
      ? await client.discovery(new URL(handle.issuer), rp.client_id, { client_secret: secret, ...metadata }, undefined, {
          execute: [client.allowInsecureRequests],
        })
      : await discoverAt(handle.issuer, rp.client_id, secret);
    outcome.config = config;
    config[client.customFetch] = async (url, options) => {
      const response = await fetch(url, options as RequestInit);
      if (url === config.serverMetadata().token_endpoint && response.headers.get('content-type')?.includes('json')) {
        outcome.tokenBody = (await response.clone().json()) as TokenBody;
        outcome.tokenBodies.push(outcome.tokenBody);
      }
      return response;
    };
    if (nonRepudiation) client.enableNonRepudiationChecks(config);
    outcome.done.push(step);
    let tokens: (client.TokenEndpointResponse & client.TokenEndpointResponseHelpers) | undefined;
    let sub: string | undefined;
    for (step of steps) {
      if (step === 'login') {
        const auth = await authorize(config, { redirect_uri: rp.redirect_uri, scope: rp.scope, login_hint: 'alice' });
        outcome.auth = auth;
        tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, {
          pkceCodeVerifier: auth.codeVerifier,
          expectedState: auth.state,
          expectedNonce: auth.nonce,
        });
        sub = tokens.claims()?.sub;
        outcome.claims.push(tokens.claims());
      } else if (step === 'refresh') {
        tokens = await client.refreshTokenGrant(config, tokens!.refresh_token!);
        outcome.claims.push(tokens.claims());
        sub = tokens.claims()?.sub ?? sub;
      } else if (step === 'userinfo') {
        await client.fetchUserInfo(config, tokens!.access_token, sub!);
      }
      outcome.done.push(step);
    }
  } catch (error) {
    const { code, message, cause } = error as { code?: string; message?: string; cause?: unknown };
    outcome.failure = { step, code, message, cause };
  }
  return outcome;
}

const VERDICT = { waitMs: 300, timeoutMs: 3000 };

describe('openid-client 6 against the scenarios, a fresh run each', () => {
  const testbed = useTestbed({ apis: false });
  // Every run starts at once (after the testbed's beforeAll); each test then reads its own.
  const outcomes = new Map<string, Promise<Outcome>>();
  beforeAll(() => {
    for (const scenario of [...REJECTIONS, ...COMPLETIONS]) {
      const outcome = play(testbed(), scenario);
      outcome.catch(() => undefined); // read (and reported) by the scenario's test
      outcomes.set(caseKey(scenario), outcome);
    }
  });

  it.each(REJECTIONS)('rejects $scenario with $code, and the run passes', async (rejection) => {
    const { handle, done, failure } = await outcomes.get(caseKey(rejection))!;
    const step: Step = rejection.steps.at(-1) ?? 'discovery';
    expect(done).toEqual(['discovery', ...rejection.steps].slice(0, -1));
    expect(failure).toMatchObject({ step, code: rejection.code, cause: rejection.cause });
    const verdict = await handle.waitForVerdict(VERDICT);
    expect(verdict).toMatchObject({ scenario: rejection.scenario, status: 'passed' });
    expect(verdict.defect_served_at).not.toBeNull();
  });

  it.each(COMPLETIONS)('completes $scenario ($steps), and the run passes', async (completion) => {
    const { handle, done, failure } = await outcomes.get(caseKey(completion))!;
    expect(failure).toBeUndefined();
    expect(done).toEqual(['discovery', ...completion.steps]);
    expect(await handle.waitForVerdict(VERDICT)).toMatchObject({ scenario: completion.scenario, status: 'passed' });
  });

  /** What an RP that ignores the error calls next, and what the run then says (a second run of each rejection). */
  const IGNORED = REJECTIONS.filter(
    ({ scenario }) => !['kid-absent-multiple-jwks', 'id-token-alg-none', 'userinfo-invalid-sub'].includes(scenario),
  );
  const OPTIONAL_SIGNATURE = new Set(['id-token-invalid-sig-rs256', 'id-token-invalid-sig-es256', 'id-token-invalid-sig-hs256']);

  it.each(IGNORED)(
    '$scenario, in a second run whose RP ignores the error and goes on: the run fails, naming the call',
    async (rejection) => {
      const { handle, config, auth, tokenBody } = await play(testbed(), rejection);
      let called: string;
      if (rejection.scenario === 'discovery-issuer-mismatch') {
        called = 'authorization';
        const discovered = (await (await fetch(handle.discovery)).json()) as { authorization_endpoint: string };
        await fetch(
          `${discovered.authorization_endpoint}?client_id=${SPA.client_id}&response_type=code&redirect_uri=${encodeURIComponent(SPA.redirect_uri)}&scope=openid`,
          { redirect: 'manual' },
        );
      } else if (rejection.scenario.startsWith('authorization-response-')) {
        called = 'token';
        const form = {
          grant_type: 'authorization_code',
          code: auth!.callbackUrl.searchParams.get('code')!,
          redirect_uri: SPA.redirect_uri,
          client_id: SPA.client_id,
          code_verifier: auth!.codeVerifier,
        };
        await fetch(config!.serverMetadata().token_endpoint!, { method: 'POST', body: new URLSearchParams(form) });
      } else {
        called = 'userinfo';
        await fetch(config!.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokenBody!.access_token}` } });
      }
      const verdict = await handle.waitForVerdict(VERDICT);
      // A bad signature from the token endpoint need not be checked over TLS: the OIDF suite skips that run.
      expect(verdict.status).toBe(OPTIONAL_SIGNATURE.has(rejection.scenario) ? 'skipped' : 'failed');
      expect(verdict.reason).toContain(`called ${called} (`);
    },
  );

  it('fails id-token-invalid-iss, naming userinfo, when the relying party ignores the error and uses the access token', async () => {
    const { handle, config, failure, tokenBody } = await play(testbed(), { scenario: 'id-token-invalid-iss', steps: LOGIN });
    expect(failure).toMatchObject({ step: 'login', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' });
    expect(tokenBody?.access_token).toEqual(expect.any(String));
    const userinfo = await fetch(config!.serverMetadata().userinfo_endpoint!, {
      headers: { authorization: `Bearer ${tokenBody!.access_token}` },
    });
    expect(userinfo.status).toBe(200);
    const verdict = await handle.waitForVerdict(VERDICT);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/called userinfo \(GET \S*\/runs\/[\w-]+\/me → 200\)/);
  });

  it('fails authorization-response-invalid-state, naming token, when the relying party redeems the code anyway', async () => {
    const { handle, config, failure, auth } = await play(testbed(), { scenario: 'authorization-response-invalid-state', steps: LOGIN });
    expect(failure).toMatchObject({ step: 'login', code: 'OAUTH_INVALID_RESPONSE' });
    expect(handle.verdict().requests.map((request) => request.endpoint)).not.toContain('token');
    const code = auth!.callbackUrl.searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    const token = await fetch(config!.serverMetadata().token_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: SPA.redirect_uri,
        client_id: SPA.client_id,
        code_verifier: auth!.codeVerifier,
      }),
    });
    expect(token.status).toBe(200);
    const verdict = await handle.waitForVerdict(VERDICT);
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toMatch(/called token \(POST \S*\/runs\/[\w-]+\/token → 200\)/);
  });

  it('id-token-alg-none: pinned or not, the token endpoint served an unsecured ID token (alg none, empty signature)', async () => {
    const pinned = await outcomes.get(caseKey(REJECTIONS.find((rejection) => rejection.metadata)!))!;
    const unpinned = await outcomes.get('id-token-alg-none')!;
    expect(unpinned.config!.serverMetadata().id_token_signing_alg_values_supported).toContain('none');
    for (const { handle, tokenBody, auth } of [pinned, unpinned]) {
      const jwt = tokenBody!.id_token!;
      expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'none' });
      expect(jwt.split('.')[2]).toBe('');
      expect(decodeJwt(jwt)).toMatchObject({ iss: handle.issuer, aud: SPA.client_id, sub: 'alice', nonce: auth!.nonce });
    }
    // Unpinned, openid-client took the unsecured claims as they came.
    expect(unpinned.claims).toEqual([expect.objectContaining({ sub: 'alice', nonce: unpinned.auth!.nonce })]);
  });

  it('id-token-invalid-sig-hs256: the raw ID token is HS256 without a kid; its MAC under the client secret fails, the claims are intact', async () => {
    const { handle, tokenBody, auth } = await outcomes.get('id-token-invalid-sig-hs256')!;
    const jwt = tokenBody!.id_token!;
    const header = decodeProtectedHeader(jwt);
    expect(header.alg).toBe('HS256');
    expect(header).not.toHaveProperty('kid');
    const secret = new TextEncoder().encode(NODE.secret);
    await expect(jwtVerify(jwt, secret, { algorithms: ['HS256'] })).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    // Only the MAC was touched: XOR 0x5A undone, it verifies under the secret over the claims the engine issued.
    const [protectedHeader, payload, signature] = jwt.split('.');
    const restored = Buffer.from(Buffer.from(signature, 'base64url').map((byte) => byte ^ 0x5a)).toString('base64url');
    const { payload: claims } = await jwtVerify(`${protectedHeader}.${payload}.${restored}`, secret, {
      algorithms: ['HS256'],
      issuer: handle.issuer,
      audience: NODE.client_id,
    });
    expect(claims).toMatchObject({ sub: 'alice', nonce: auth!.nonce });
  });

  it('kid-absent-multiple-jwks: the run publishes no kid and at least three RSA keys, and the RS256 ID token has no kid', async () => {
    const { config, tokenBody } = await outcomes.get('kid-absent-multiple-jwks')!;
    const { keys } = (await (await fetch(config!.serverMetadata().jwks_uri!)).json()) as { keys: Array<{ kty: string; kid?: string }> };
    expect(keys.filter((key) => 'kid' in key)).toEqual([]);
    expect(keys.filter((key) => key.kty === 'RSA').length).toBeGreaterThanOrEqual(3);
    const header = decodeProtectedHeader(tokenBody!.id_token!);
    expect(header.alg).toBe('RS256');
    expect(header).not.toHaveProperty('kid');
  });

  describe('refresh-token-invalid-sub (openid-client does not compare subs: the application must)', () => {
    const REFRESH: Case = { scenario: 'refresh-token-invalid-sub', steps: ['login', 'refresh'], refreshing: true };
    /** The claims of a decoded ID token but `sub`, by their JSON kind. */
    const kinds = ({ sub: _sub, ...claims }: JWTPayload) =>
      Object.fromEntries(Object.entries(claims).map(([name, value]) => [name, Array.isArray(value) ? 'array' : typeof value]));

    it('refreshTokenGrant resolves with sub + "1"; an RP that compares subs calls nothing after, and the run passes', async () => {
      const { handle, done, failure, claims, tokenBodies } = await play(testbed(), REFRESH);
      expect(failure).toBeUndefined();
      expect(done).toEqual(['discovery', 'login', 'refresh']);
      const [first, refreshed] = tokenBodies.map((body) => decodeJwt(body.id_token!));
      expect(first.sub).toBe('alice');
      expect(refreshed.sub).toBe(`${first.sub}1`);
      expect(refreshed).toMatchObject({ iss: first.iss, aud: first.aud });
      expect(kinds(refreshed)).toEqual(kinds(first));
      // What openid-client handed over says the same: the comparison is the application's.
      expect(claims.map((idToken) => idToken?.sub)).toEqual(['alice', 'alice1']);
      const verdict = await handle.waitForVerdict(VERDICT);
      expect(verdict).toMatchObject({ scenario: 'refresh-token-invalid-sub', status: 'passed' });
      expect(verdict.reason).toMatch(/no userinfo, profile-api or directory-api request/);
    });

    it('fails, naming userinfo, when the RP uses the refreshed access token anyway', async () => {
      const { handle, config, failure, tokenBody } = await play(testbed(), REFRESH);
      expect(failure).toBeUndefined();
      expect(await client.fetchUserInfo(config!, tokenBody!.access_token!, 'alice')).toMatchObject({ sub: 'alice' });
      const verdict = await handle.waitForVerdict(VERDICT);
      expect(verdict.status).toBe('failed');
      expect(verdict.reason).toMatch(/called userinfo \(GET \S*\/runs\/[\w-]+\/me → 200\)/);
    });
  });
});
