import * as client from 'openid-client';
import type { Testbed } from '../../src/index.ts';
import { UserAgent } from './agent.ts';

/** openid-client configuration for a testbed client (plain http on loopback allowed). */
export async function discover(testbed: Testbed, clientId: string, secret?: string, metadata: Partial<client.ClientMetadata> = {}, auth?: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(testbed.issuer), clientId, { client_secret: secret, ...metadata }, auth, { execute: [client.allowInsecureRequests] });
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
export async function authorize(config: client.Configuration, parameters: { redirect_uri: string } & Record<string, string | readonly string[]>, agent = new UserAgent()): Promise<AuthorizationResult> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const search = new URLSearchParams({
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    login_hint: 'alice',
  });
  // Array values become repeated parameters (several `resource` indicators, RFC 8707 §2).
  for (const [name, value] of Object.entries(parameters)) {
    search.delete(name);
    for (const item of typeof value === 'string' ? [value] : value) search.append(name, item);
  }
  const url = client.buildAuthorizationUrl(config, search);
  const { url: callbackUrl, response } = await agent.follow(url, parameters.redirect_uri);
  if (response) throw new Error(`authorization stopped at ${callbackUrl.href} with ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return { callbackUrl, codeVerifier, state, nonce, agent };
}

/** The whole code flow: `authorize()` then the code exchange (checking state, nonce, PKCE, iss). */
export async function signIn(config: client.Configuration, parameters: Parameters<typeof authorize>[1], tokenParameters: Record<string, string> = {}) {
  const auth = await authorize(config, parameters);
  const tokens = await client.authorizationCodeGrant(config, auth.callbackUrl, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce }, tokenParameters);
  return { auth, tokens };
}

export { client };
