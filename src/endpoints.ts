/**
 * Where each endpoint of an issuer lives, relative to the issuer: fixed, so that pages, tests,
 * docs and the fixture rules (an extra issuer may not take one of these paths) name them alike.
 */

/** oidc-provider's routes (its `routes` option). */
export const ROUTES = {
  authorization: '/auth',
  backchannel_authentication: '/backchannel',
  code_verification: '/device',
  device_authorization: '/device/auth',
  end_session: '/session/end',
  introspection: '/token/introspection',
  jwks: '/jwks',
  pushed_authorization_request: '/request',
  registration: '/reg',
  revocation: '/token/revocation',
  token: '/token',
  userinfo: '/me',
} as const;

/** Login and consent pages; oidc-provider scopes its interaction cookie to this path. */
export const INTERACTION_PATH = '/interaction';
/** The testbed's own endpoints of an issuer (CIBA approval, later scenarios' verdicts). */
export const CONTROL_PATH = '/_testbed';
/** Discovery (OpenID Connect Discovery 1.0 §4, RFC 8414 §3). */
export const WELL_KNOWN_PATH = '/.well-known';
/** Conformance scenario issuers, under the main issuer (src/scenarios). */
export const SCENARIOS_PATH = '/scenarios';
/** The IdP port's health check, beside the issuers. */
export const HEALTH_PATH = '/healthz';

/** First path segments taken by the main issuer's endpoints. */
export const RESERVED_FIRST_SEGMENTS: ReadonlySet<string> = new Set(
  [...Object.values(ROUTES), INTERACTION_PATH, CONTROL_PATH, WELL_KNOWN_PATH, HEALTH_PATH, SCENARIOS_PATH].map(
    (path) => `/${path.split('/')[1]}`,
  ),
);
