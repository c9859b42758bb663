import * as client from 'openid-client';
import type { Testbed } from '../../src/index.ts';
import { UserAgent } from './agent.ts';

/** openid-client configuration for a testbed client (plain http on loopback allowed). */
export async function discover(
  testbed: Testbed,
  clientId: string,
  secret?: string,
  metadata: Partial<client.ClientMetadata> = {},
  auth?: client.ClientAuth,
): Promise<client.Configuration> {
  return client.discovery(new URL(testbed.issuer), clientId, { client_secret: secret, ...metadata }, auth, {
    execute: [client.allowInsecureRequests],
  });
}

/**
 * openid-client configuration from discovery at `url`, plain http allowed: an issuer outside this
 * process (a container), or a `/.well-known/openid-configuration` URL at an origin other than the
 * issuer's (a replica, an internal name).
 */
export function discoverAt(url: string | URL, clientId: string, secret?: string): Promise<client.Configuration> {
  return client.discovery(new URL(url), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
}

export interface AuthorizationResult {
  callbackUrl: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
  agent: UserAgent;
}

/**
 * Runs the front channel of a code flow headlessly: login_hint auto-login (the default fixture's
 * `auto_login`), PKCE S256, state and nonce. Returns the callback URL to hand to openid-client.
 */
export async function authorize(
  config: client.Configuration,
  parameters: { redirect_uri: string } & Record<string, string | readonly string[]>,
  agent = new UserAgent(),
): Promise<AuthorizationResult> {
  const { parameters: base, codeVerifier } = await codeRequest(parameters.redirect_uri);
  const { state, nonce } = base;
  const search = new URLSearchParams(base);
  search.delete('scope'); // the caller's, or none
  // Array values become repeated parameters (several `resource` indicators, RFC 8707 §2).
  for (const [name, value] of Object.entries(parameters)) {
    search.delete(name);
    for (const item of typeof value === 'string' ? [value] : value) search.append(name, item);
  }
  const url = client.buildAuthorizationUrl(config, search);
  const { url: callbackUrl, response } = await agent.follow(url, parameters.redirect_uri);
  if (response)
    throw new Error(`authorization stopped at ${callbackUrl.href} with ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return { callbackUrl, codeVerifier, state, nonce, agent };
}

/** The whole code flow: `authorize()` then the code exchange (checking state, nonce, PKCE, iss). */
export async function signIn(
  config: client.Configuration,
  parameters: Parameters<typeof authorize>[1],
  tokenParameters: Record<string, string> = {},
) {
  const auth = await authorize(config, parameters);
  const tokens = await client.authorizationCodeGrant(
    config,
    auth.callbackUrl,
    { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce },
    tokenParameters,
  );
  return { auth, tokens };
}

export { client };

/** The parameters of a code request with PKCE S256, state, nonce and login_hint (auto-login), and its verifier. */
export async function codeRequest(redirectUri: string, extra: Record<string, string> = {}) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const parameters: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state: client.randomState(),
    nonce: client.randomNonce(),
    login_hint: 'alice',
    ...extra,
  };
  return { parameters, codeVerifier };
}

/**
 * The error an authorization request ends with: from the error redirect (RFC 6749 §4.1.2.1), or,
 * when the testbed cannot redirect, from its error page or JSON error.
 */
export async function authorizationError(
  url: URL | string,
): Promise<{ status: number; error?: string | null; description?: string | null }> {
  const response = await fetch(url, { redirect: 'manual', headers: { accept: 'application/json' } });
  const location = response.headers.get('location');
  if (location) {
    const target = new URL(location);
    return { status: response.status, error: target.searchParams.get('error'), description: target.searchParams.get('error_description') };
  }
  const text = await response.text();
  const json = text.startsWith('{') ? (JSON.parse(text) as { error?: string; error_description?: string }) : undefined;
  return {
    status: response.status,
    error: json?.error ?? /invalid_[a-z_]+|request_uri_not_supported/.exec(text)?.[0],
    description: json?.error_description,
  };
}
