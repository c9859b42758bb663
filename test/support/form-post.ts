/** The OAuth 2.0 Form Post Response Mode as an RP's callback meets it. */
import { UserAgent } from './agent.ts';
import { client } from './openid.ts';

/** The hidden inputs of an auto-submitting form_post page, and where it posts them. */
export function formPostFields(html: string): { action?: string; fields: Record<string, string> } {
  const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[name] = value;
  return { action, fields };
}

/** What the RP's callback receives: the same fields, POSTed to `redirectUri`. */
export function postedCallback(redirectUri: string, fields: Record<string, string>): Request {
  return new Request(redirectUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

/**
 * The front channel of a hybrid `code id_token` sign-in with form_post (openid-client's
 * `useCodeIdTokenResponseType`), headless: login_hint auto-login, PKCE, state and nonce. Returns the
 * form the issuer posts back, the page's status and the values the code exchange checks.
 */
export async function hybridFormPost(
  config: client.Configuration,
  parameters: { redirect_uri: string; scope: string; login_hint: string },
) {
  client.useCodeIdTokenResponseType(config);
  const nonce = client.randomNonce();
  const state = client.randomState();
  const codeVerifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    ...parameters,
    response_mode: 'form_post',
    nonce,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  const { response } = await new UserAgent().follow(url);
  return { url, status: response?.status, ...formPostFields((await response?.text()) ?? ''), nonce, state, codeVerifier };
}
