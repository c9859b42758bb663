/**
 * The issuer/host split (containers). oidc-provider keeps `issuer` fixed but builds every endpoint
 * URL from the host of the request. That suits the back channel: an RP in a container that reads
 * discovery at http://testbed:9400 gets its token, JWKS, userinfo and introspection endpoints there,
 * while tokens carry the public issuer (say http://localhost:9400). The endpoints a *browser*
 * opens must stay on the public issuer's origin, though, or the RP would send the user to a host
 * only containers can resolve; this middleware moves those back onto it.
 */
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Discovery metadata a user agent visits (OpenID Connect Discovery 1.0 §3, RP-Initiated Logout §2.1). */
const FRONT_CHANNEL_METADATA = ['authorization_endpoint', 'end_session_endpoint', 'check_session_iframe'] as const;
/** Device authorization response members the user opens on another device (RFC 8628 §3.2). */
const FRONT_CHANNEL_DEVICE = ['verification_uri', 'verification_uri_complete'] as const;

export function pinFrontChannelToIssuer(issuer: string): Middleware {
  const { origin } = new URL(issuer);
  const onIssuerOrigin = (value: unknown): unknown => {
    if (typeof value !== 'string' || !URL.canParse(value)) return value;
    const url = new URL(value);
    return `${origin}${url.pathname}${url.search}`;
  };
  return async function frontChannelOnIssuerOrigin(ctx, next) {
    await next();
    const route = (ctx as unknown as KoaContextWithOIDC).oidc?.route;
    const members = route === 'discovery' ? FRONT_CHANNEL_METADATA : route === 'device_authorization' ? FRONT_CHANNEL_DEVICE : undefined;
    if (!members || ctx.status !== 200 || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    for (const member of members) {
      if (member in body) body[member] = onIssuerOrigin(body[member]);
    }
  };
}
