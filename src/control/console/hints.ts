/**
 * The console's hint of what a relying party probably did wrong, by endpoint and OAuth error (and
 * grant type, where it tells causes apart): what oidc-provider 9 answers that error for there, as
 * the testbed serves it (its token-error corrections included: a grant type the client is not
 * registered for is `unauthorized_client`, RFC 6749 §5.2, where the engine says `invalid_request`).
 */

/** The endpoints whose hints are another's: the login's resumption is the authorization request's. */
const SAME_AS: Readonly<Record<string, string>> = {
  resume: 'authorization',
  pushed_authorization_request: 'authorization',
  introspection: 'token',
  revocation: 'token',
  device_authorization: 'token',
  'directory-api': 'profile-api',
};

const CLIENT_AUTH =
  'client authentication failed: a wrong client_secret, or the secret sent another way than the client’s token_endpoint_auth_method (client_secret_basic: the Authorization header; client_secret_post: the form body); for private_key_jwt, a client_assertion with a wrong aud, iss/sub, exp or jti, or signed with a key the client did not register';

const DPOP_PROOF =
  'the DPoP proof is malformed, signed by another key than the token is bound to, names another htm or htu, has a stale iat, or was used before (RFC 9449 §4.3)';

/** `endpoint error` or `endpoint error grant_type` → hint. */
const HINTS: ReadonlyMap<string, string> = new Map([
  [
    'token invalid_grant authorization_code',
    'the code was used twice (the second use also revokes what the first one got), expired, was issued to another client, or the redirect_uri or PKCE code_verifier does not match the authorization request',
  ],
  [
    'token invalid_grant refresh_token',
    'the refresh token is unknown, expired or revoked, was issued to another client, or was already used (a rotated refresh token is single-use: keep the newest); a DPoP-bound one needs a proof with the same key',
  ],
  [
    'token invalid_grant',
    'the grant sent (code, refresh token, device_code, auth_req_id, assertion) is unknown, expired, already used, or belongs to another client',
  ],
  ['token invalid_client', CLIENT_AUTH],
  ['token unauthorized_client', 'the client is not registered for this grant_type (its grant_types)'],
  ['token unsupported_grant_type', 'this issuer does not offer the grant_type (grant_types_supported in discovery)'],
  [
    'token invalid_scope',
    'a scope the client may not ask for; on a refresh, a scope the original grant did not include (refresh_token requests may only narrow it)',
  ],
  [
    'token invalid_target',
    'the resource is unknown to this issuer or not allowed for the client, or more than one was asked for a token (RFC 8707 §2.2)',
  ],
  [
    'token invalid_request',
    'a parameter is missing, repeated or malformed (code, redirect_uri, grant_type…), or a client that must use DPoP sent no proof',
  ],
  ['token invalid_dpop_proof', DPOP_PROOF],
  ['token use_dpop_nonce', 'expected once: retry with the DPoP-Nonce header of this answer in the proof (RFC 9449 §8)'],
  ['token authorization_pending', 'normal while the user has not decided yet: poll again after the interval'],
  ['token slow_down', 'polling faster than the interval: add 5 seconds to it from now on (RFC 8628 §3.5)'],
  ['token expired_token', 'the device_code or auth_req_id expired before the user decided: start again'],
  ['token access_denied', 'the user denied the device or CIBA request'],
  [
    'authorization invalid_redirect_uri',
    'the redirect_uri is not one the client registered; the match is exact (scheme, host, port, path, trailing slash)',
  ],
  [
    'authorization invalid_client',
    'no client has this client_id (the fixture, PUT <issuer>/_testbed/clients or dynamic registration adds one)',
  ],
  [
    'authorization invalid_request',
    'a parameter is missing or not allowed: most often code_challenge (PKCE is required for this client or issuer), a response_type or response_mode the client is not registered for, or the nonce an implicit or hybrid response needs',
  ],
  ['authorization invalid_scope', 'a scope the client may not ask for, or one with characters a scope cannot have'],
  ['authorization unsupported_response_type', 'this issuer does not offer the response_type (response_types_supported in discovery)'],
  ['authorization login_required', 'prompt=none, but the browser has no session at this issuer: sign in once without prompt=none'],
  ['authorization consent_required', 'prompt=none, but the user has not granted these scopes or claims to this client yet'],
  ['authorization interaction_required', 'prompt=none, but a page is needed (max_age passed, or an acr or a different user asked for)'],
  ['authorization access_denied', 'the user chose Deny or Cancel on the sign-in or consent page'],
  ['authorization invalid_request_uri', 'the request_uri is unknown, expired or already used (a pushed request_uri is single-use)'],
  [
    'authorization invalid_request_object',
    'the request object’s signature, alg, iss, aud or exp is wrong, or it is signed with a key the client did not register (RFC 9101)',
  ],
  ['authorization invalid_target', 'the resource is unknown to this issuer or not allowed for this client (RFC 8707)'],
  [
    'userinfo invalid_token',
    'the access token is expired, revoked or unknown, was issued for an API rather than userinfo (its aud), or is DPoP-bound and sent without Authorization: DPoP and a proof',
  ],
  ['userinfo insufficient_scope', 'the access token lacks the openid scope'],
  ['userinfo invalid_dpop_proof', DPOP_PROOF],
  [
    'end_session invalid_request',
    'post_logout_redirect_uri is not one the client registered, or id_token_hint is not an ID token of this issuer',
  ],
  ['end_session invalid_client', 'the id_token_hint’s aud or the client_id names no client of this issuer'],
  ['registration invalid_client_metadata', 'a metadata value the issuer refuses: the error_description names it'],
  ['registration invalid_redirect_uri', 'a redirect_uri the issuer refuses (a fragment, or http on a non-loopback host for a native app)'],
  ['registration invalid_token', 'the initial access token or registration access token is missing or wrong'],
  ['backchannel_authentication unknown_user_id', 'login_hint (or id_token_hint, login_hint_token) names no user of this issuer'],
  ['backchannel_authentication invalid_request', 'no login_hint, id_token_hint or login_hint_token, or more than one of them'],
  ['backchannel_authentication invalid_client', CLIENT_AUTH],
  [
    'profile-api invalid_token',
    'the token is expired, not issued for this API (its aud), or signed with a key the API cannot find in the issuer’s JWKS',
  ],
  ['profile-api insufficient_scope', 'the token lacks the scope this call needs'],
  ['profile-api invalid_dpop_proof', DPOP_PROOF],
  ['profile-api use_dpop_nonce', 'expected once: retry with the DPoP-Nonce header of this answer in the proof (RFC 9449 §9)'],
]);

/** The hint for an entry's error, or none for an error this table does not know there. */
export function hintFor(entry: { endpoint: string; error?: string; grant_type?: string }): string | undefined {
  if (!entry.error) return undefined;
  const endpoint = SAME_AS[entry.endpoint] ?? entry.endpoint;
  return (
    (entry.grant_type ? HINTS.get(`${endpoint} ${entry.error} ${entry.grant_type}`) : undefined) ?? HINTS.get(`${endpoint} ${entry.error}`)
  );
}
