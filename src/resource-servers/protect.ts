/**
 * The token check every mock API route shares, as small Koa middleware:
 *
 *   authenticate = presented credentials → access token validation → sender constraint (DPoP)
 *   requireScope(…) per route
 *
 * Failures are TokenErrors; `renderTokenErrors` (mounted above the routes) turns them into
 * RFC 6750 / RFC 9449 responses.
 */
import type { Context, Middleware } from 'koa';
import { AccessTokenVerifier, type AccessTokenSettings, type VerifiedAccessToken } from './access-tokens.ts';
import { insufficientScope, invalidRequest, invalidToken, renderTokenErrors, TokenError, type ApiState, type AuthScheme } from './challenges.ts';
import { presentedCredentials } from './credentials.ts';
import { DpopVerifier, type DpopSettings } from './dpop.ts';

export interface ProtectionSettings {
  /** `realm` of the challenges: the API's name. */
  realm: string;
  tokens: AccessTokenSettings;
  dpop: DpopSettings;
}

export interface Protection {
  /** Above the routes: renders token errors. */
  readonly renderErrors: Middleware;
  /** Before a protected route: sets `ctx.state.caller` and `ctx.state.scheme`. */
  readonly authenticate: Middleware;
  /** The token must carry at least one of `scopes`. */
  requireScope(...scopes: string[]): Middleware;
}

export function protection(settings: ProtectionSettings): Protection {
  const tokens = new AccessTokenVerifier(settings.tokens);
  const dpop = new DpopVerifier(settings.dpop);

  const authenticate: Middleware = async function authenticate(ctx, next) {
    const credentials = presentedCredentials(ctx);
    const state = ctx.state as ApiState;
    state.scheme = credentials.scheme;
    const caller = await tokens.verify(credentials.token).catch((error: unknown) => {
      // The challenge answers in the scheme the client used (RFC 9449 §7.1).
      throw error instanceof TokenError && credentials.scheme === 'DPoP' ? new TokenError(error.code, error.message, 'DPoP', error.scope) : error;
    });
    await checkSenderConstraint(ctx, credentials.scheme, credentials.token, caller, dpop);
    state.caller = caller;
    return next();
  };

  return {
    renderErrors: renderTokenErrors({ realm: settings.realm, dpopAlgorithms: settings.dpop.algorithms }),
    authenticate,
    requireScope(...scopes) {
      const required = scopes.join(' ');
      return async function requireScope(ctx, next) {
        const { caller, scheme } = ctx.state as ApiState;
        if (!caller || !scopes.some((scope) => caller.scopes.has(scope))) {
          const description = scopes.length === 1 ? `this request needs the scope ${required}` : `this request needs one of the scopes ${required}`;
          throw insufficientScope(required, description, scheme ?? 'Bearer');
        }
        return next();
      };
    },
  };
}

/** RFC 9449 §7: DPoP-bound tokens only with the DPoP scheme and a matching proof; others only as Bearer. */
async function checkSenderConstraint(ctx: Context, scheme: AuthScheme, token: string, caller: VerifiedAccessToken, dpop: DpopVerifier): Promise<void> {
  if (caller.jkt === undefined) {
    if (scheme === 'DPoP') throw invalidToken('access token is not DPoP-bound: send it as Authorization: Bearer', 'DPoP');
    return;
  }
  if (scheme !== 'DPoP') throw invalidToken('access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof (RFC 9449 section 7.2)', 'DPoP');
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
