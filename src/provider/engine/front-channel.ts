/**
 * The issuer/host split (containers). oidc-provider keeps `issuer` fixed but builds every endpoint
 * URL from the host of the request. That suits the back channel: an RP in a container that reads
 * discovery at http://testbed:9400 gets its token, JWKS, userinfo and introspection endpoints there,
 * while tokens carry the public issuer (say http://localhost:9400). The endpoints a *browser*
 * opens must stay on the public issuer's origin, though, or the RP would send the user to a host
 * only containers can resolve; this middleware moves those back onto it.
 */
import type { BodyRewrite } from './route-responses.ts';

/** Discovery metadata a user agent visits (OpenID Connect Discovery 1.0 §3, RP-Initiated Logout §2.1). */
const FRONT_CHANNEL_METADATA = ['authorization_endpoint', 'end_session_endpoint', 'check_session_iframe'] as const;
/** Device authorization response members the user opens on another device (RFC 8628 §3.2). */
const FRONT_CHANNEL_DEVICE = ['verification_uri', 'verification_uri_complete'] as const;

/** The rewrites of the discovery and device authorization answers, by oidc-provider route. */
export function pinFrontChannelToIssuer(issuer: string): { discovery: BodyRewrite; device_authorization: BodyRewrite } {
  const { origin } = new URL(issuer);
  const onIssuerOrigin = (value: unknown): unknown => {
    if (typeof value !== 'string' || !URL.canParse(value)) return value;
    const url = new URL(value);
    return `${origin}${url.pathname}${url.search}`;
  };
  const pin = (members: readonly string[]): BodyRewrite =>
    function frontChannelOnIssuerOrigin(body) {
      for (const member of members) {
        if (member in body) body[member] = onIssuerOrigin(body[member]);
      }
    };
  return { discovery: pin(FRONT_CHANNEL_METADATA), device_authorization: pin(FRONT_CHANNEL_DEVICE) };
}
