/**
 * Helpers for the mock API tests: the default fixture with signing keys the test knows (to forge
 * tokens), real tokens from the IdP, hand-made DPoP proofs and raw API calls.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { parse } from 'yaml';
import { DEFAULT_FIXTURE_PATH, type FixtureInput, type Testbed } from '../../src/index.ts';
import { generateSigningKeys } from '../../src/provider/keys.ts';
import { authorize, client, discover, signIn } from './openid.ts';

export const PROFILE_API = 'http://localhost:9401/';
export const DIRECTORY_API = 'http://localhost:9402/openidm/';
export const WEB_APP_REDIRECT = 'http://localhost:3001/callback';

/** The embedded default fixture, with generated signing keys the test can sign with. */
export async function defaultFixtureWithKeys(): Promise<FixtureInput> {
  const fixture = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as FixtureInput;
  const signing = (await generateSigningKeys()) as Array<JWK & { kty: string }>;
  return { ...fixture, keys: { ...fixture.keys, signing } };
}

/** The testbed's private signing key for `alg` (the fixture must carry keys). */
export async function testbedKey(testbed: Testbed, alg = 'ES256'): Promise<{ key: CryptoKey; kid: string; jwk: JWK }> {
  const jwk = (testbed.fixture.keys.signing as JWK[] | undefined)?.find((candidate) => candidate.alg === alg);
  if (!jwk) throw new Error(`the fixture has no ${alg} signing key`);
  return { key: (await importJWK(jwk, alg)) as CryptoKey, kid: jwk.kid!, jwk };
}

/** A JWT access token as the IdP would issue it for the profile API, with `claims` and `header` overriding. */
export async function forgeAccessToken(
  testbed: Testbed,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
  signingKey?: CryptoKey | Uint8Array,
): Promise<string> {
  const { key, kid } = await testbedKey(testbed);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: testbed.issuer,
    aud: PROFILE_API,
    sub: 'alice',
    client_id: 'web-app',
    scope: 'profile email',
    jti: randomUUID(),
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header } as { alg: string })
    .sign(signingKey ?? key);
}

/** An unsecured JWT (`alg: none`), which jose refuses to produce. */
export function unsecuredJwt(payload: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part(payload)}.`;
}

/** The web-app client (confidential, first-party) in openid-client. */
export function webApp(testbed: Testbed): Promise<client.Configuration> {
  return discover(testbed, 'web-app', undefined, {}, client.ClientSecretPost('web-app-secret'));
}

/** A user (alice unless `login_hint` says otherwise) signs in to web-app; the tokens are for `resource`. */
export async function userTokens(
  testbed: Testbed,
  resource: string,
  scope: string,
  options: { login_hint?: string; DPoP?: client.DPoPHandle } = {},
) {
  const config = await webApp(testbed);
  const parameters = {
    redirect_uri: WEB_APP_REDIRECT,
    scope: `openid ${scope}`,
    resource,
    ...(options.login_hint ? { login_hint: options.login_hint } : {}),
  };
  if (!options.DPoP) return { config, tokens: (await signIn(config, parameters, { resource })).tokens };
  const auth = await authorize(config, parameters);
  const tokens = await client.authorizationCodeGrant(
    config,
    auth.callbackUrl,
    { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
    { resource },
    { DPoP: options.DPoP },
  );
  return { config, tokens };
}

/** A client-credentials token of service-client (its subject is the client, not a user). */
export async function serviceToken(testbed: Testbed, resource: string, scope: string, DPoP?: client.DPoPHandle): Promise<string> {
  const config = await discover(testbed, 'service-client', undefined, {}, client.ClientSecretBasic('service-client-secret'));
  return (await client.clientCredentialsGrant(config, { resource, scope }, DPoP ? { DPoP } : undefined)).access_token;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  challenge: string | null;
  body: Record<string, unknown> & { error?: string; error_description?: string };
}

export async function callApi(url: string | URL, init: RequestInit = {}): Promise<ApiResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    challenge: response.headers.get('www-authenticate'),
    body: text ? JSON.parse(text) : {},
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface DpopKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

/** A DPoP proof (RFC 9449 §4.2) for `htm` `htu`, bound to `accessToken`; every part can be overridden. */
export async function dpopProof(
  key: DpopKey,
  htm: string,
  htu: string,
  accessToken: string,
  overrides: { claims?: JWTPayload; header?: Record<string, unknown>; signWith?: CryptoKey } = {},
): Promise<string> {
  return new SignJWT({
    jti: randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(accessToken).digest('base64url'),
    ...overrides.claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk, ...overrides.header } as { alg: string })
    .sign(overrides.signWith ?? key.privateKey);
}

/** An openid-client DPoP handle over a DpopKey (so a test can also hand-craft proofs with the same key). */
export async function dpopHandle(config: client.Configuration, key: DpopKey): Promise<client.DPoPHandle> {
  const publicKey = (await importJWK(key.publicJwk, 'ES256')) as CryptoKey;
  return client.getDPoPHandle(config, { privateKey: key.privateKey, publicKey });
}
