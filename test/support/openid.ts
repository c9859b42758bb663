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
export async function authorize(config: client.Configuration, parameters: Record<string, string>, agent = new UserAgent()): Promise<AuthorizationResult> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    login_hint: 'alice',
    ...parameters,
  });
  const { url: callbackUrl, response } = await agent.follow(url, parameters.redirect_uri);
  if (response) throw new Error(`authorization stopped at ${callbackUrl.href} with ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return { callbackUrl, codeVerifier, state, nonce, agent };
}

export { client };
