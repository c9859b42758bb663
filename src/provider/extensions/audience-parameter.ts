/**
 * `audience`, the name Auth0-style clients (express-openid-connect, Auth0 SDKs) give RFC 8707's
 * `resource`: its value is a fixture resource's `audience`, or its indicator. It is accepted
 * wherever `resource` is — authorization, PAR, device and CIBA requests (an oidc-provider
 * `extraParams` entry, resolved by `defaultResource` in resources.ts), and every grant at the token
 * endpoint but token exchange, which has its own (RFC 8693 §2.1).
 *
 * The resource an authorization request named, when it named exactly one (by `resource` or
 * `audience`), becomes the target of the code exchange and of refreshes that name none, as Auth0
 * does for `audience`. A resource the testbed chose because the scope names its scopes (the
 * ForgeRock style, see resources.ts) does not: those requests still get the userinfo token.
 *
 * oidc-provider's models keep no field of ours, and the request is seen up to three times (PAR,
 * authorization, the resume after the login pages). So the first time, a single resource the client
 * named is also written to the request's `audience`, which the engine stores with the rest of the
 * request; when the code is issued, the resource is written into the code's `claims` (the one
 * free-form field the engine copies from code to refresh token to rotated refresh token), under a key
 * no claims request uses.
 */

import type { Middleware } from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { answerOAuthError } from '../../http/error-answers.ts';
import { readFormParameters, replaceFormParameters } from '../../http/form-body.ts';
import { TOKEN_EXCHANGE } from '../grants/token-exchange.ts';
import type { ResourceCatalog } from '../resources.ts';

/** Where the named resource sits in a code's (and its refresh tokens') `claims`. */
const NAMED_RESOURCE = 'oidc_testbed_named_resource';

/** The resource the authorization request behind `model` (a code or refresh token) named, if it named exactly one. */
export function namedResourceOf(model: { resource?: string | string[]; claims?: unknown }): string | undefined {
  const named = (model.claims as Record<string, unknown> | undefined)?.[NAMED_RESOURCE];
  return typeof named === 'string' && model.resource === named ? named : undefined;
}

/**
 * oidc-provider's `extraParams.audience` check, run after the engine resolved the resources:
 * `audience` and `resource` naming different resources is `invalid_target`; a single resource
 * the client named itself is recorded as `audience` (see the module comment).
 */
export function checkAudienceParameter(resources: ResourceCatalog) {
  return async (ctx: KoaContextWithOIDC, audience: unknown): Promise<void> => {
    const { params } = ctx.oidc;
    const named = ([] as string[]).concat((params?.resource as string | string[] | undefined) ?? []);
    if (typeof audience === 'string') {
      const target = resources.resolveAudience(audience);
      if (!target) throw new errors.InvalidTarget(`unknown audience ${audience}`);
      if (named.some((indicator) => indicator !== target.indicator)) {
        throw new errors.InvalidTarget(
          `audience ${audience} and resource ${named.join(' ')} name different resources: an access token has one audience`,
        );
      }
      return;
    }
    // A pushed request seen again at the authorization endpoint carries what its first pass recorded.
    if (named.length !== 1 || resources.wasDefaulted(ctx) || ctx.oidc.entities.PushedAuthorizationRequest) return;
    params!.audience = named[0];
  };
}

/** Writes the named resource into an authorization code about to be saved (see the module comment). */
export function recordNamedResource(
  ctx: KoaContextWithOIDC,
  code: { kind: string; resource?: string | string[]; claims?: unknown },
  resources: ResourceCatalog,
): void {
  const audience = ctx.oidc.params?.audience;
  if (code.kind !== 'AuthorizationCode' || typeof audience !== 'string') return;
  const target = resources.resolveAudience(audience);
  if (!target || code.resource !== target.indicator) return;
  code.claims = { ...(code.claims as Record<string, unknown> | undefined), [NAMED_RESOURCE]: target.indicator };
}

/**
 * Token endpoint: `audience` becomes `resource` before oidc-provider reads the body (every grant
 * but token exchange). Naming different resources with both is `invalid_target`; an unknown
 * audience is handed on as it is, for the engine to refuse as an unknown resource.
 */
export function audienceAsResource(resources: ResourceCatalog): Middleware {
  return async function audienceAsResource(ctx, next) {
    if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return next();
    const params = await readFormParameters(ctx);
    if (!params) return undefined;
    const audiences = params.getAll('audience');
    if (audiences.length === 0 || params.get('grant_type') === TOKEN_EXCHANGE) return next();
    const named = audiences.map((audience) => resources.resolveAudience(audience)?.indicator ?? audience);
    const given = params.getAll('resource');
    if (given.length > 0 && [...named, ...given].some((indicator) => indicator !== given[0])) {
      answerOAuthError(
        ctx,
        400,
        'invalid_target',
        `audience ${audiences.join(' ')} and resource ${given.join(' ')} name different resources: an access token has one audience`,
      );
      return undefined;
    }
    params.delete('audience');
    if (given.length === 0) for (const indicator of new Set(named)) params.append('resource', indicator);
    replaceFormParameters(ctx, params);
    return next();
  };
}
