/**
 * Changes to the JSON answers of oidc-provider routes (discovery, device authorization), applied
 * by one layer keyed on the route the engine matched (`ctx.oidc.route`).
 */
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** A change to the JSON body of a route's 200 answer. */
export type BodyRewrite = (body: Record<string, unknown>) => void;

export function rewriteRouteResponses(byRoute: ReadonlyMap<string, readonly BodyRewrite[]>): Middleware {
  return async function rewriteRouteResponse(ctx, next) {
    await next();
    // oidc-provider defines ctx.oidc on its own routes only.
    const rewrites = byRoute.get((ctx as unknown as Partial<KoaContextWithOIDC>).oidc?.route ?? '');
    if (!rewrites || ctx.status !== 200 || typeof ctx.body !== 'object' || ctx.body === null) return;
    for (const rewrite of rewrites) rewrite(ctx.body as Record<string, unknown>);
  };
}
