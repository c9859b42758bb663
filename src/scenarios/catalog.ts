/**
 * Every scenario, by name (the names are the contract). Defects are made as the OIDF suite makes
 * them where it has the test (`iss` + "1", signature bytes XOR 0x5A, `exp` = now − 360 s), change
 * one thing, and apply only on the scenario's own issuer and the matched route.
 */
import { exportJWK, generateKeyPair } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { corruptSignature, signJwt, unsecuredJwt } from '../jose/tamper.ts';
import { publicJwk } from '../jose/vocabulary.ts';
import { KEY_SCENARIOS } from './key-scenarios.ts';
import type { Judge, JudgedRequest, RunContext, ScenarioDefinition, ScenarioInfo, ScenarioPlan } from './scenario.ts';
import {
  badSignatureJudging,
  cloneBody,
  forbiddenAfterIdToken,
  keyForAlg,
  redirectParameters,
  reissue,
  rewriteAnswerOf,
  rewriteDiscovery,
  USES_OF_TOKENS,
  userinfoCompletes,
  withParameters,
} from './tampering.ts';

const now = () => Math.floor(Date.now() / 1000);
const REJECT: Judge = { kind: 'reject' };
const ID_TOKEN_PLANS: readonly ScenarioPlan[] = ['basic', 'form-post', 'fapi2'];
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Completes at a UserInfo call that succeeded. */

/** A discovery rewrite (a copy of the engine's answer). */

function advertiseIdTokenAlgs(algs: readonly string[]) {
  return new Map([
    [
      'discovery',
      rewriteDiscovery((metadata) => {
        metadata.id_token_signing_alg_values_supported = [...algs];
      }),
    ],
  ]);
}

/** A negative ID-token scenario: `change` edits the token wherever the issuer issues it. */
function idTokenDefect(
  spec: { name: string; title: string; defect: string; oidf?: string; openidClient?: string; plans?: readonly ScenarioPlan[] },
  change: (claims: Record<string, unknown>) => void,
): ScenarioDefinition {
  return {
    ...spec,
    plans: spec.plans ?? ID_TOKEN_PLANS,
    expect:
      'rejects the response carrying the ID token and calls nothing after it (no token request after an authorization response, no userinfo)',
    judge: REJECT,
    misbehave: (run) => ({
      reissue: reissue(run, 'idtoken', ({ claims }) => change(claims), { forbidden: (issued) => forbiddenAfterIdToken(issued.ctx) }),
    }),
  };
}

/** A negative scenario on the authorization response's redirect (query or fragment). */
function authorizationResponseDefect(
  spec: { name: string; title: string; defect: string; oidf?: string; openidClient?: string },
  change: (params: URLSearchParams) => void,
): ScenarioDefinition {
  const rewrite = (run: RunContext) => async (ctx: KoaContextWithOIDC) => {
    const location = ctx.status === 303 || ctx.status === 302 ? ctx.response.get('Location') : '';
    // Relative: the engine's own interaction redirect, not the response to the client.
    if (!location || !URL.canParse(location)) return;
    const redirect = redirectParameters(location);
    if (!redirect.params.has('code')) return;
    change(redirect.params);
    ctx.redirect(withParameters(redirect));
    ctx.status = 303;
    run.served('authorization response', ['token']);
  };
  return {
    ...spec,
    plans: ['basic', 'fapi2'],
    expect: 'refuses the authorization response: never sends its code to the token endpoint',
    judge: REJECT,
    misbehave: (run) => ({
      respond: new Map([
        ['authorization', rewrite(run)],
        ['resume', rewrite(run)],
      ]),
    }),
  };
}

/** A negative JARM scenario (RFC 9101-style `response` JWT, openid-client `useJwtResponseMode`). */
function jarmDefect(
  name: string,
  title: string,
  defect: string,
  oidf: string,
  change: (claims: Record<string, unknown>) => void,
  sign?: 'corrupt' | 'none',
): ScenarioDefinition {
  return {
    name,
    title,
    defect,
    oidf,
    plans: ['jarm', 'fapi2'],
    expect: 'refuses the JARM response: no token request',
    judge: REJECT,
    misbehave: (run) => ({
      reissue: reissue(run, 'authorization', ({ claims }) => change(claims), {
        forbidden: () => ['token'],
        ...(sign === 'corrupt'
          ? { sign: async (jwt) => corruptSignature(await signJwt(jwt.header, jwt.claims, keyForAlg(run.keys, String(jwt.header.alg)))) }
          : sign === 'none'
            ? { sign: (jwt) => unsecuredJwt(jwt.claims) }
            : {}),
      }),
    }),
  };
}

/** A back-channel logout scenario: the logout token changed as `change` says (none: the valid one). */
function backchannelLogout(
  name: string,
  title: string,
  defect: string,
  oidf: string,
  change?: (jwt: { header: Record<string, unknown>; claims: Record<string, unknown> }) => void,
  sign?: (run: RunContext, jwt: { header: Record<string, unknown>; claims: Record<string, unknown> }) => string | Promise<string>,
): ScenarioDefinition {
  return {
    name,
    title,
    defect,
    oidf,
    plans: ['logout'],
    expect: change
      ? 'answers 400 to the logout token (and keeps the session)'
      : 'answers 200 (with Cache-Control: no-store) and ends the session',
    openidClient: 'openid-client 6 has no logout-token API: the application validates it (OpenID Connect Back-Channel Logout 1.0 §2.6)',
    judge: { kind: 'backchannel', status: change ? 400 : 200 },
    misbehave: (run) => ({
      reissue: reissue(run, 'logout', (jwt) => change?.(jwt), sign ? { sign: (jwt) => sign(run, jwt) } : {}),
      outgoing: async (url, init, send) => {
        const response = await send(url, init);
        const isLogout =
          typeof init.body === 'string'
            ? init.body.includes('logout_token=')
            : init.body instanceof URLSearchParams && init.body.has('logout_token');
        if (isLogout) run.delivered({ url: url.href, status: response.status, cacheControl: response.headers.get('cache-control') });
        return response;
      },
    }),
  };
}

/** The post-logout redirect's `state` changed (OpenID Connect RP-Initiated Logout 1.0 §3). */
function postLogoutStateDefect(
  name: string,
  title: string,
  defect: string,
  oidf: string,
  change: (params: URLSearchParams) => void,
): ScenarioDefinition {
  const rewrite = (run: RunContext) => async (ctx: KoaContextWithOIDC) => {
    const location = ctx.status === 303 || ctx.status === 302 ? ctx.response.get('Location') : '';
    if (!location || !URL.canParse(location)) return;
    const url = new URL(location);
    change(url.searchParams);
    ctx.redirect(url.href);
    ctx.status = 303;
    run.served('post-logout redirect');
  };
  return {
    name,
    title,
    defect,
    oidf,
    plans: ['logout'],
    expect: 'does not take the redirect as the answer to its own logout request',
    openidClient: 'openid-client 6 does not check the post-logout state: the application compares it',
    judge: { kind: 'either' },
    misbehave: (run) => ({ respond: new Map([['end_session_confirm', rewrite(run)]]) }),
  };
}

async function extraRsaPublicKeys(count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const { publicKey } = await generateKeyPair('RS256', { extractable: true });
      return { ...publicJwk(await exportJWK(publicKey)), use: 'sig' };
    }),
  );
}

/** The JWKS answer without any `kid` (and, with `extra`, more RSA keys beside the run's). */
function jwksWithoutKids(extra: number) {
  let extraKeys: Promise<Record<string, unknown>[]> | undefined;
  return async (ctx: KoaContextWithOIDC) => {
    const jwks = cloneBody<{ keys: Record<string, unknown>[] }>(ctx);
    if (!jwks) return;
    const keys = jwks.keys.filter((key) => key.use !== 'enc').map(({ kid: _kid, alg: _alg, ...key }) => key);
    if (extra > 0) keys.push(...(await (extraKeys ??= extraRsaPublicKeys(extra))));
    ctx.body = { keys };
  };
}

/** A JWKS without kids (and `extra` more RSA keys) and ID tokens without a kid. */
function withoutKids(extra: number): ScenarioDefinition['misbehave'] {
  return (run) => ({
    respond: new Map([['jwks', jwksWithoutKids(extra)]]),
    reissue: reissue(run, 'idtoken', ({ header }) => {
      delete header.kid;
    }),
  });
}

const refreshOnly = { applies: (issued: { ctx?: KoaContextWithOIDC }) => issued.ctx?.oidc?.params?.grant_type === 'refresh_token' };

const completesAfterRefresh: Judge = {
  kind: 'complete',
  completes: 'a successful userinfo request after a refresh',
  test: (request, earlier) =>
    request.route === 'userinfo' &&
    request.status === 200 &&
    earlier.some((seen) => seen.grant_type === 'refresh_token' && seen.status === 200),
};

const SCENARIOS: readonly ScenarioDefinition[] = [
  // Happy paths: a correct RP completes.
  {
    name: 'happy-path',
    title: 'Everything correct',
    plans: ['basic', 'config', 'form-post', 'fapi2'],
    oidf: 'oidcc-client-test',
    defect: 'none: the issuer follows every rule',
    expect: 'completes the flow and calls userinfo',
    judge: userinfoCompletes,
    misbehave: () => ({}),
  },
  {
    name: 'id-token-sig-rs256',
    title: 'RS256 only',
    plans: ['basic'],
    oidf: 'oidcc-client-test-idtoken-sig-rs256',
    defect: 'none: discovery lists RS256 as the only ID token algorithm',
    expect: 'completes with RS256 ID tokens',
    judge: userinfoCompletes,
    misbehave: () => ({ respond: advertiseIdTokenAlgs(['RS256']) }),
  },
  {
    name: 'kid-absent-single-jwks',
    title: 'No kid, one key per type',
    plans: ['basic'],
    oidf: 'oidcc-client-test-kid-absent-single-jwks',
    defect: 'none: the JWKS has one key per type and no kid, and ID tokens have no kid',
    expect: 'completes, using the single matching key',
    judge: userinfoCompletes,
    misbehave: withoutKids(0),
  },
  {
    name: 'aud-as-array',
    title: 'aud as a one-element array',
    plans: ['basic', 'fapi2'],
    oidf: 'fapi2-security-profile-final-client-test-valid-aud-as-array',
    defect: 'none: the ID token `aud` is `[client_id]`',
    expect: 'completes',
    judge: userinfoCompletes,
    misbehave: (run) => ({
      reissue: reissue(run, 'idtoken', ({ claims }) => {
        claims.aud = [claims.aud].flat() as string[];
      }),
    }),
  },
  {
    name: 'token-response-without-expires-in',
    title: 'No expires_in',
    plans: ['basic', 'fapi2'],
    oidf: 'fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in',
    defect: 'none: the token response has no `expires_in` (RFC 6749 §5.1 RECOMMENDED)',
    expect: 'completes',
    judge: userinfoCompletes,
    misbehave: () => ({
      respond: rewriteAnswerOf('token', (body) => {
        delete body.expires_in;
      }),
    }),
  },
  {
    name: 'token-type-case-insensitive',
    title: 'token_type in odd case',
    plans: ['basic', 'fapi2'],
    oidf: 'fapi2-security-profile-final-client-test-token-type-case-insensitivity',
    defect: 'none: `token_type` comes with its case inverted (`bEARER`, `dpOP`; RFC 6749 §5.1: case-insensitive)',
    expect: 'completes',
    judge: userinfoCompletes,
    misbehave: () => ({
      respond: rewriteAnswerOf('token', (body) => {
        if (typeof body.token_type !== 'string') return false;
        body.token_type = [...body.token_type].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
      }),
    }),
  },
  {
    name: 'dpop-nonce-required',
    title: 'DPoP nonce required',
    plans: ['dpop', 'fapi2'],
    oidf: 'fapi2-security-profile-final-client-test-happy-path',
    defect: 'none: every DPoP proof must carry a server nonce (RFC 9449 §8)',
    expect: 'retries with the nonce it was given and completes',
    judge: userinfoCompletes,
    adjust: (fixture) => ({
      ...fixture,
      issuer: {
        ...fixture.issuer,
        features: { ...fixture.issuer.features, dpop: { ...fixture.issuer.features.dpop, enabled: true, require_nonce: true } },
      },
    }),
    misbehave: () => ({}),
  },
  {
    name: 'refresh-token',
    title: 'Refresh, then userinfo',
    plans: ['refresh'],
    oidf: 'oidcc-client-test-refresh-token',
    defect: 'none',
    expect: 'refreshes its tokens and calls userinfo with the new access token',
    judge: completesAfterRefresh,
    misbehave: () => ({}),
  },
  {
    name: 'rp-init-logout',
    title: 'RP-initiated logout',
    plans: ['logout'],
    oidf: 'oidcc-client-test-rp-init-logout',
    defect: 'none',
    expect: 'sends the user to end_session with id_token_hint and completes at its post_logout_redirect_uri',
    judge: {
      kind: 'complete',
      completes: 'a confirmed logout',
      test: (request) => request.route === 'end_session_confirm' && request.status < 400,
    },
    misbehave: () => ({}),
  },
  backchannelLogout(
    'backchannel-logout',
    'Back-channel logout',
    'none: a valid logout token (OpenID Connect Back-Channel Logout 1.0 §2.4)',
    'oidcc-client-test-rp-backchannel-rpinitlogout',
  ),

  // ID tokens, wherever issued.
  idTokenDefect(
    {
      name: 'id-token-invalid-iss',
      title: 'Wrong iss',
      defect: 'the ID token `iss` is the issuer + "1"',
      oidf: 'oidcc-client-test-invalid-iss',
      openidClient: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED ("iss")',
    },
    (claims) => {
      claims.iss = `${String(claims.iss)}1`;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-missing-iss',
      title: 'No iss',
      defect: 'the ID token has no `iss`',
      oidf: 'fapi2-security-profile-final-client-test-invalid-missing-iss',
      openidClient: 'OAUTH_INVALID_RESPONSE ("iss" claim missing)',
    },
    (claims) => {
      delete claims.iss;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-invalid-aud',
      title: 'Wrong aud',
      defect: 'the ID token `aud` is the client_id + "1"',
      oidf: 'oidcc-client-test-invalid-aud',
      openidClient: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED ("aud")',
    },
    (claims) => {
      claims.aud = `${String(claims.aud)}1`;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-missing-aud',
      title: 'No aud',
      defect: 'the ID token has no `aud`',
      oidf: 'oidcc-client-test-missing-aud',
      openidClient: 'OAUTH_INVALID_RESPONSE ("aud" claim missing)',
    },
    (claims) => {
      delete claims.aud;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-untrusted-aud',
      title: 'Second, untrusted aud',
      defect: 'the ID token `aud` is [client_id, client_id + "1"] and it has no `azp`',
      oidf: 'fapi2-security-profile-final-client-test-invalid-secondary-aud',
      openidClient: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED (additional untrusted audiences)',
    },
    (claims) => {
      claims.aud = [String(claims.aud), `${String(claims.aud)}1`];
      delete claims.azp;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-missing-sub',
      title: 'No sub',
      defect: 'the ID token has no `sub`',
      oidf: 'oidcc-client-test-missing-sub',
      openidClient: 'OAUTH_INVALID_RESPONSE ("sub" claim missing)',
    },
    (claims) => {
      delete claims.sub;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-missing-iat',
      title: 'No iat',
      defect: 'the ID token has no `iat`',
      oidf: 'oidcc-client-test-missing-iat',
      openidClient: 'OAUTH_INVALID_RESPONSE ("iat" claim missing)',
    },
    (claims) => {
      delete claims.iat;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-missing-exp',
      title: 'No exp',
      defect: 'the ID token has no `exp`',
      oidf: 'fapi2-security-profile-final-client-test-invalid-missing-exp',
      openidClient: 'OAUTH_INVALID_RESPONSE ("exp" claim missing)',
    },
    (claims) => {
      delete claims.exp;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-expired',
      title: 'Expired',
      defect: 'the ID token `exp` is 360 s ago',
      oidf: 'fapi2-security-profile-final-client-test-invalid-expired-exp',
      openidClient: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED ("exp")',
    },
    (claims) => {
      claims.exp = now() - 360;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-invalid-nonce',
      title: 'Wrong nonce',
      defect: 'the ID token `nonce` is the sent nonce + "1" (or "null1" when none was sent)',
      oidf: 'oidcc-client-test-nonce-invalid',
      openidClient: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED ("nonce")',
    },
    (claims) => {
      claims.nonce = `${typeof claims.nonce === 'string' ? claims.nonce : 'null'}1`;
    },
  ),
  idTokenDefect(
    {
      name: 'id-token-missing-nonce',
      title: 'No nonce',
      defect: 'the ID token has no `nonce`, though the request sent one',
      oidf: 'fapi2-security-profile-final-client-test-invalid-missing-nonce',
      openidClient: 'OAUTH_INVALID_RESPONSE ("nonce" claim missing; only when the RP passes expectedNonce)',
    },
    (claims) => {
      delete claims.nonce;
    },
  ),
  {
    name: 'id-token-invalid-sig-rs256',
    title: 'Bad RS256 signature',
    plans: ID_TOKEN_PLANS,
    oidf: 'oidcc-client-test-invalid-sig-rs256',
    defect: 'the RS256 ID token signature bytes are XOR 0x5A',
    expect: 'rejects the ID token (its signature does not verify)',
    openidClient: 'code flow: not checked unless enableNonRepudiationChecks (then OAUTH_INVALID_RESPONSE, signature verification failed)',
    judge: REJECT,
    misbehave: (run) => ({
      respond: advertiseIdTokenAlgs(['RS256']),
      reissue: reissue(
        run,
        'idtoken',
        ({ header }) => {
          header.alg = 'RS256';
        },
        {
          ...badSignatureJudging,
          sign: async ({ header, claims }) =>
            corruptSignature(await signJwt({ ...header, kid: keyForAlg(run.keys, 'RS256').kid }, claims, keyForAlg(run.keys, 'RS256'))),
        },
      ),
    }),
  },
  {
    name: 'id-token-invalid-sig-es256',
    title: 'Bad ES256 signature',
    plans: ID_TOKEN_PLANS,
    oidf: 'oidcc-client-test-invalid-sig-es256',
    defect: 'the ID token is ES256 (the only algorithm discovery lists) and its signature bytes are XOR 0x5A',
    expect: 'rejects the ID token (its signature does not verify)',
    openidClient: 'code flow: not checked unless enableNonRepudiationChecks (then OAUTH_INVALID_RESPONSE, signature verification failed)',
    judge: REJECT,
    misbehave: (run) => ({
      respond: advertiseIdTokenAlgs(['ES256']),
      reissue: reissue(run, 'idtoken', () => undefined, {
        ...badSignatureJudging,
        sign: async ({ header, claims }) => {
          const key = keyForAlg(run.keys, 'ES256');
          return corruptSignature(await signJwt({ ...header, alg: 'ES256', kid: key.kid }, claims, key));
        },
      }),
    }),
  },
  {
    name: 'id-token-invalid-sig-hs256',
    title: 'Bad HS256 signature',
    plans: ID_TOKEN_PLANS,
    oidf: 'oidcc-client-test-invalid-sig-hs256',
    defect: 'the ID token is HS256 under the client secret (discovery lists HS256) and its signature bytes are XOR 0x5A',
    expect: 'rejects the ID token (its MAC does not verify)',
    openidClient: 'code flow: not checked; with enableNonRepudiationChecks OAUTH_UNSUPPORTED_OPERATION (it refuses HS256 altogether)',
    judge: REJECT,
    misbehave: (run) => ({
      respond: advertiseIdTokenAlgs(['HS256', 'RS256']),
      reissue: reissue(run, 'idtoken', () => undefined, {
        ...badSignatureJudging,
        sign: async ({ header, claims }) => {
          const secret = run.fixture.clients.find((client) => client.client_id === claims.aud)?.client_secret ?? 'no-secret';
          const { kid: _kid, ...rest } = header;
          return corruptSignature(await signJwt({ ...rest, alg: 'HS256' }, claims, new TextEncoder().encode(secret)));
        },
      }),
    }),
  },
  {
    name: 'id-token-alg-none',
    title: 'Unsecured ID token',
    plans: ID_TOKEN_PLANS,
    oidf: 'oidcc-client-test-idtoken-sig-none',
    defect: 'the ID token is unsecured (`alg: none`, empty signature) and discovery lists `none`',
    expect: 'rejects it (or, as the OIDF suite allows in the code flow, accepts it over TLS)',
    openidClient:
      'accepted when the client does not pin id_token_signed_response_alg (discovery lists none); pinned: OAUTH_INVALID_RESPONSE (unexpected "alg")',
    judge: { kind: 'either' },
    misbehave: (run) => ({
      respond: new Map([
        [
          'discovery',
          rewriteDiscovery((metadata) => {
            metadata.id_token_signing_alg_values_supported = [
              ...new Set([...((metadata.id_token_signing_alg_values_supported as string[]) ?? []), 'none']),
            ];
          }),
        ],
      ]),
      reissue: reissue(run, 'idtoken', () => undefined, { sign: ({ claims }) => unsecuredJwt(claims) }),
    }),
  },
  {
    name: 'id-token-alternate-alg',
    title: 'RS256 where discovery lists none of it',
    plans: ID_TOKEN_PLANS,
    oidf: 'fapi2-security-profile-final-client-test-invalid-alternate-alg',
    defect: 'a valid RS256 ID token signed with a published key while discovery lists only ES256, PS256 and EdDSA',
    expect: 'rejects the ID token (an algorithm it was not told about)',
    openidClient: 'OAUTH_INVALID_RESPONSE (unexpected JWT "alg" header parameter)',
    judge: REJECT,
    misbehave: (run) => ({
      respond: advertiseIdTokenAlgs(['ES256', 'PS256', 'EdDSA']),
      reissue: reissue(
        run,
        'idtoken',
        ({ header }) => {
          header.alg = 'RS256';
          header.kid = keyForAlg(run.keys, 'RS256').kid;
        },
        { forbidden: (issued) => forbiddenAfterIdToken(issued.ctx) },
      ),
    }),
  },
  {
    name: 'kid-absent-multiple-jwks',
    title: 'No kid, several keys',
    plans: ['basic'],
    oidf: 'oidcc-client-test-kid-absent-multiple-jwks',
    defect: 'the JWKS has several RSA keys and no kid; the ID token has no kid',
    expect: 'either tries the keys or rejects: both pass',
    openidClient: 'code flow: not checked; with enableNonRepudiationChecks OAUTH_KEY_SELECTION_FAILED (a "kid" is required)',
    judge: { kind: 'either' },
    misbehave: withoutKids(2),
  },

  // Discovery.
  {
    name: 'discovery-issuer-mismatch',
    title: 'Discovery names another issuer',
    plans: ['config', 'fapi2'],
    oidf: 'oidcc-client-test-discovery-issuer-mismatch',
    defect: 'discovery `issuer` is the issuer + "INVALID" (the endpoints are right)',
    expect: 'stops after discovery: no authorization request',
    openidClient: 'discovery() throws OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED (not checked when given a /.well-known/ URL)',
    judge: REJECT,
    misbehave: (run) => ({
      respond: rewriteAnswerOf('discovery', (metadata) => {
        metadata.issuer = `${String(metadata.issuer)}INVALID`;
        run.served('discovery', ['authorization', 'pushed_authorization_request']);
      }),
    }),
  },

  // Authorization responses (RFC 9207 iss, state).
  authorizationResponseDefect(
    {
      name: 'authorization-response-invalid-iss',
      title: 'Wrong iss in the authorization response',
      defect: 'the authorization response `iss` is the issuer + "1" (RFC 9207)',
      oidf: 'fapi2-security-profile-final-client-test-invalid-authorization-response-iss',
      openidClient: 'OAUTH_INVALID_RESPONSE (unexpected "iss" response parameter)',
    },
    (params) => {
      params.set('iss', `${params.get('iss') ?? ''}1`);
    },
  ),
  authorizationResponseDefect(
    {
      name: 'authorization-response-missing-iss',
      title: 'No iss in the authorization response',
      defect: 'the authorization response has no `iss`, though discovery advertises RFC 9207',
      oidf: 'fapi2-security-profile-final-client-test-remove-authorization-response-iss',
      openidClient: 'OAUTH_INVALID_RESPONSE (response parameter "iss" missing)',
    },
    (params) => {
      params.delete('iss');
    },
  ),
  authorizationResponseDefect(
    {
      name: 'authorization-response-invalid-state',
      title: 'Wrong state',
      defect: 'the authorization response `state` is the sent state + "1" ("1" when none was sent)',
      oidf: 'fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails',
      openidClient: 'OAUTH_INVALID_RESPONSE (unexpected "state")',
    },
    (params) => {
      params.set('state', `${params.get('state') ?? ''}1`);
    },
  ),
  authorizationResponseDefect(
    {
      name: 'authorization-response-missing-state',
      title: 'No state',
      defect: 'the authorization response has no `state`',
      oidf: 'fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails',
      openidClient: 'OAUTH_INVALID_RESPONSE (response parameter "state" missing; needs expectedState)',
    },
    (params) => {
      params.delete('state');
    },
  ),

  {
    name: 'form-post-error',
    title: 'An error by form_post',
    plans: ['form-post'],
    oidf: 'oidcc-client-test-form-post-error',
    defect: 'none: `prompt=none` without a session at this run answers `error=login_required` by form_post (OpenID Connect Core §3.1.2.6)',
    expect: 'takes the error from the form post and shows it: no token request',
    openidClient: 'authorizationCodeGrant throws AuthorizationResponseError (OAUTH_AUTHORIZATION_RESPONSE_ERROR, error login_required)',
    judge: REJECT,
    misbehave: (run) => ({
      respond: new Map([
        [
          'authorization',
          async (ctx: KoaContextWithOIDC) => {
            const html = typeof ctx.body === 'string' ? ctx.body : '';
            if (ctx.oidc.params?.response_mode === 'form_post' && /name="error" value="login_required"/.test(html))
              run.served('error by form_post', ['token']);
          },
        ],
      ]),
    }),
  },
  // UserInfo.
  {
    name: 'userinfo-invalid-sub',
    title: 'UserInfo for another sub',
    plans: ['basic'],
    oidf: 'oidcc-client-test-userinfo-invalid-sub',
    defect: 'the userinfo `sub` is the real one + "invalid"',
    expect: "rejects the userinfo response (its sub is not the ID token's)",
    openidClient: 'fetchUserInfo(config, token, expectedSub) throws OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
    judge: { kind: 'either' },
    misbehave: (run) => ({
      respond: rewriteAnswerOf('userinfo', (claims) => {
        if (typeof claims.sub !== 'string') return false;
        claims.sub = `${claims.sub}invalid`;
        run.served('userinfo');
      }),
    }),
  },

  // Refresh.
  {
    name: 'refresh-token-invalid-iss',
    title: 'Wrong iss after a refresh',
    plans: ['refresh'],
    oidf: 'oidcc-client-test-refresh-token-invalid-issuer',
    defect: 'the ID token of the refresh response has `iss` = issuer + "1"',
    expect: 'rejects the refresh response; no userinfo after it',
    openidClient: 'refreshTokenGrant throws OAUTH_JWT_CLAIM_COMPARISON_FAILED ("iss")',
    judge: REJECT,
    misbehave: (run) => ({
      reissue: reissue(
        run,
        'idtoken',
        ({ claims }) => {
          claims.iss = `${String(claims.iss)}1`;
        },
        { ...refreshOnly, forbidden: () => USES_OF_TOKENS },
      ),
    }),
  },
  {
    name: 'refresh-token-invalid-sub',
    title: 'Another sub after a refresh',
    plans: ['refresh'],
    oidf: 'oidcc-client-test-refresh-token-invalid-sub',
    defect: 'the ID token of the refresh response has `sub` + "1"',
    expect: 'rejects the refresh response (OpenID Connect Core §12.2: same sub); no userinfo after it',
    openidClient: 'not detected: refreshTokenGrant does not compare sub with the first ID token; the application must',
    judge: REJECT,
    misbehave: (run) => ({
      reissue: reissue(
        run,
        'idtoken',
        ({ claims }) => {
          claims.sub = `${String(claims.sub)}1`;
        },
        { ...refreshOnly, forbidden: () => USES_OF_TOKENS },
      ),
    }),
  },

  // JARM.
  jarmDefect(
    'jarm-missing-iss',
    'JARM without iss',
    'the JARM response JWT has no `iss`',
    'fapi2-security-profile-final-client-test-ensure-jarm-without-iss-fails',
    (claims) => {
      delete claims.iss;
    },
  ),
  jarmDefect(
    'jarm-invalid-iss',
    'JARM with a wrong iss',
    'the JARM response `iss` is the issuer + "1"',
    'fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-iss-fails',
    (claims) => {
      claims.iss = `${String(claims.iss)}1`;
    },
  ),
  jarmDefect(
    'jarm-missing-aud',
    'JARM without aud',
    'the JARM response JWT has no `aud`',
    'fapi2-security-profile-final-client-test-ensure-jarm-without-aud-fails',
    (claims) => {
      delete claims.aud;
    },
  ),
  jarmDefect(
    'jarm-invalid-aud',
    'JARM with a wrong aud',
    'the JARM response `aud` is the client_id + "1"',
    'fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-aud-fails',
    (claims) => {
      claims.aud = `${String(claims.aud)}1`;
    },
  ),
  jarmDefect(
    'jarm-missing-exp',
    'JARM without exp',
    'the JARM response JWT has no `exp`',
    'fapi2-security-profile-final-client-test-ensure-jarm-without-exp-fails',
    (claims) => {
      delete claims.exp;
    },
  ),
  jarmDefect(
    'jarm-expired',
    'Expired JARM',
    'the JARM response `exp` is 360 s ago',
    'fapi2-security-profile-final-client-test-ensure-jarm-with-expired-exp-fails',
    (claims) => {
      claims.exp = now() - 360;
    },
  ),
  jarmDefect(
    'jarm-invalid-sig',
    'JARM with a bad signature',
    'the JARM response signature bytes are XOR 0x5A',
    'fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-sig-fails',
    () => undefined,
    'corrupt',
  ),
  jarmDefect(
    'jarm-alg-none',
    'Unsecured JARM',
    'the JARM response is unsecured (`alg: none`)',
    'fapi2-security-profile-final-client-test-ensure-jarm-signature-is-not-none',
    () => undefined,
    'none',
  ),

  // DPoP.
  {
    name: 'dpop-token-type-bearer',
    title: 'Bearer for a DPoP-bound request',
    plans: ['dpop'],
    defect: 'the token response says `token_type: Bearer` to a request with a DPoP proof (RFC 9449 §5: it must be DPoP)',
    expect: 'notices the downgrade and does not use the token',
    openidClient: 'not detected: openid-client accepts either token_type and keeps sending DPoP proofs',
    judge: REJECT,
    misbehave: (run) => ({
      respond: rewriteAnswerOf('token', (body, ctx) => {
        if (!ctx.get('DPoP')) return false;
        body.token_type = 'Bearer';
        run.served('token response', USES_OF_TOKENS);
      }),
    }),
  },

  // Logout.
  postLogoutStateDefect(
    'rp-init-logout-no-state',
    'Post-logout redirect without state',
    'the post-logout redirect has no `state`',
    'oidcc-client-test-rp-init-logout-no-state',
    (params) => {
      params.delete('state');
    },
  ),
  postLogoutStateDefect(
    'rp-init-logout-other-state',
    'Post-logout redirect with another state',
    'the post-logout redirect `state` is the sent state + "_INVALID"',
    'oidcc-client-test-rp-init-logout-other-state',
    (params) => {
      params.set('state', `${params.get('state') ?? ''}_INVALID`);
    },
  ),
  backchannelLogout(
    'backchannel-logout-alg-none',
    'Unsecured logout token',
    'the logout token is unsecured (`alg: none`)',
    'oidcc-client-test-rp-backchannel-rpinitlogout-alg-none',
    () => undefined,
    (_run, { header, claims }) => unsecuredJwt(claims, typeof header.typ === 'string' ? header.typ : undefined),
  ),
  backchannelLogout(
    'backchannel-logout-wrong-alg',
    'Logout token in another algorithm',
    "the logout token is validly signed, but ES256 where the RP's ID tokens are RS256 (RS256 otherwise)",
    'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg',
    () => undefined,
    async (run, { header, claims }) => {
      const alg = header.alg === 'ES256' ? 'RS256' : 'ES256';
      const key = keyForAlg(run.keys, alg);
      return signJwt({ ...header, alg, kid: key.kid }, claims, key);
    },
  ),
  backchannelLogout(
    'backchannel-logout-wrong-aud',
    'Logout token for another audience',
    'the logout token `aud` is the client_id + "INVALID"',
    'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud',
    ({ claims }) => {
      claims.aud = `${String(claims.aud)}INVALID`;
    },
  ),
  backchannelLogout(
    'backchannel-logout-wrong-iss',
    'Logout token from another issuer',
    'the logout token `iss` is the issuer + "INVALID"',
    'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss',
    ({ claims }) => {
      claims.iss = `${String(claims.iss)}INVALID`;
    },
  ),
  backchannelLogout(
    'backchannel-logout-no-event',
    'Logout token without events',
    'the logout token has no `events` claim',
    'oidcc-client-test-rp-backchannel-rpinitlogout-no-event',
    ({ claims }) => {
      delete claims.events;
    },
  ),
  backchannelLogout(
    'backchannel-logout-wrong-event',
    'Logout token with another event',
    'the logout token `events` is {"http://schemas.openid.net/event/foobar":{}}',
    'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event',
    ({ claims }) => {
      claims.events = { 'http://schemas.openid.net/event/foobar': {} };
    },
  ),
  backchannelLogout(
    'backchannel-logout-with-nonce',
    'Logout token with a nonce',
    'the logout token has `nonce` "logout_tokens_must_not_contain_a_nonce"',
    'oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce',
    ({ claims }) => {
      claims.nonce = 'logout_tokens_must_not_contain_a_nonce';
    },
  ),
];

export const BACKCHANNEL_LOGOUT_EVENT = BACKCHANNEL_EVENT;

/** The scenarios by name. */
export const SCENARIO_CATALOG: ReadonlyMap<string, ScenarioDefinition> = new Map(
  [...SCENARIOS, ...KEY_SCENARIOS].map((scenario) => [scenario.name, scenario]),
);

export type { JudgedRequest };

/** The catalog as people read it (no judges or hooks), in catalog order. */
export function scenarioCatalog(): ScenarioInfo[] {
  return [...SCENARIO_CATALOG.values()].map(({ name, title, plans, defect, expect, oidf, openidClient }) => ({
    name,
    title,
    plans,
    defect,
    expect,
    ...(oidf ? { oidf } : {}),
    ...(openidClient ? { openidClient } : {}),
  }));
}

/** The catalog as a Markdown table (docs/scenarios.md is this, generated by `npm run docs:scenarios`). */
export function scenarioTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const rows = scenarioCatalog().map(
    (entry) =>
      `| \`${entry.name}\` | ${entry.plans.join(', ')} | ${cell(entry.defect)} | ${cell(entry.expect)} | ${entry.oidf ? `\`${entry.oidf}\`` : '—'} | ${cell(entry.openidClient ?? '—')} |`,
  );
  return ['| scenario | plans | defect | a correct RP… | OIDF module | openid-client 6 |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
