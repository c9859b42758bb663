/**
 * The token check every mock API route shares, as one Koa middleware per route:
 *
 *   guard(…scopes) = presented credentials → access token validation → sender constraint (DPoP)
 *                    → the token carries one of the route's scopes
 *
 * Failures are TokenErrors, answered by the guard itself as RFC 6750 / RFC 9449 responses (no
 * error-rendering layer around every request).
 */
import type { Context, Middleware } from 'koa';
import { type AccessTokenSettings, AccessTokenVerifier, type VerifiedAccessToken } from './access-tokens.ts';
import {
  type ApiState,
  type AuthScheme,
  insufficientScope,
  invalidRequest,
  invalidToken,
  renderTokenError,
  TokenError,
} from './challenges.ts';
import { presentedCredentials } from './credentials.ts';
import { type DpopSettings, DpopVerifier } from './dpop.ts';

export interface ProtectionSettings {
  /** `realm` of the challenges: the API's name. */
  realm: string;
  tokens: AccessTokenSettings;
  dpop: DpopSettings;
}

export interface Protection {
  /**
   * Before a protected route: authenticates the caller (setting `ctx.state.caller` and
   * `ctx.state.scheme`), then requires at least one of `scopes` (one async layer, not two).
   */
  guard(...scopes: string[]): Middleware;
}

export function protection(settings: ProtectionSettings): Protection {
  const tokens = new AccessTokenVerifier(settings.tokens);
  const dpop = new DpopVerifier(settings.dpop);

  const authenticate = async (ctx: Context): Promise<VerifiedAccessToken> => {
    const credentials = presentedCredentials(ctx);
    const state = ctx.state as ApiState;
    state.scheme = credentials.scheme;
    let caller: VerifiedAccessToken;
    try {
      caller = await tokens.verify(credentials.token);
    } catch (error) {
      // The challenge answers in the scheme the client used (RFC 9449 §7.1).
      throw error instanceof TokenError && credentials.scheme === 'DPoP'
        ? new TokenError(error.code, error.message, 'DPoP', error.scope)
        : error;
    }
    await checkSenderConstraint(ctx, credentials.scheme, credentials.token, caller, dpop);
    state.caller = caller;
    return caller;
  };

  const challenges = { realm: settings.realm, dpopAlgorithms: settings.dpop.algorithms };
  return {
    guard(...scopes) {
      const required = scopes.join(' ');
      const description =
        scopes.length === 1 ? `this request needs the scope ${required}` : `this request needs one of the scopes ${required}`;
      return async function guard(ctx, next) {
        try {
          const caller = await authenticate(ctx);
          if (!scopes.some((scope) => caller.scopes.has(scope)))
            throw insufficientScope(required, description, (ctx.state as ApiState).scheme ?? 'Bearer');
        } catch (caught) {
          if (!(caught instanceof TokenError)) throw caught;
          renderTokenError(ctx, caught, challenges);
          return undefined;
        }
        return next();
      };
    },
  };
}

/** RFC 9449 §7: DPoP-bound tokens only with the DPoP scheme and a matching proof; others only as Bearer. */
async function checkSenderConstraint(
  ctx: Context,
  scheme: AuthScheme,
  token: string,
  caller: VerifiedAccessToken,
  dpop: DpopVerifier,
): Promise<void> {
  if (caller.jkt === undefined) {
    if (scheme === 'DPoP') throw invalidToken('access token is not DPoP-bound: send it as Authorization: Bearer', 'DPoP');
    return;
  }
  if (scheme !== 'DPoP')
    throw invalidToken('access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof (RFC 9449 section 7.2)', 'DPoP');
  await dpop.verify(ctx, token, caller.jkt, requestUrl(ctx));
}

/**
 * The URL the client used, as far as this server can tell: `ctx.protocol` and `ctx.host` honour
 * X-Forwarded-Proto/Host only with `app.proxy` (Koa 3's `ctx.origin` is the Origin header, not this).
 */
function requestUrl(ctx: Context): string {
  const url = URL.parse(`${ctx.protocol}://${ctx.host}${ctx.path}`);
  if (!url) throw invalidRequest('the request has no usable Host header');
  return url.href;
}
