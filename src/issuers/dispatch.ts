import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import { HEALTH_PATH } from '../endpoints.ts';
import type { Issuer } from './create-issuer.ts';
import { authorizationServerMetadataOfPaths } from './metadata-paths.ts';

export interface IdpRoutes {
  health: (ctx: Context) => Promise<void>;
  issuers: readonly Issuer[];
}

/**
 * The IdP port's one dispatching layer: `/healthz`, then each request to the issuer whose path it
 * is under (the longest first: the main issuer, at the root, would otherwise answer for the
 * others), as koa-mount would mount it.
 */
export function routeIdpRequest(routes: IdpRoutes): Middleware {
  const mounted = [...routes.issuers]
    .sort((a, b) => b.mountPath.length - a.mountPath.length)
    .map((issuer) => ({ prefix: issuer.mountPath, run: compose(issuer.provider.middleware as Middleware[]) }));
  const toMetadataOfPath = authorizationServerMetadataOfPaths(routes.issuers.map((issuer) => issuer.mountPath).filter(Boolean));
  return async function routeIdpRequest(ctx, next) {
    // A target like `//jwks?@#` parses to no path at all (Koa's ctx.path is null).
    if (typeof ctx.path !== 'string') throw Object.assign(new Error('the request target is not a path'), { status: 400, expose: true });
    if (ctx.path === HEALTH_PATH) return routes.health(ctx);
    const requested = ctx.path;
    const path = toMetadataOfPath(requested);
    for (const { prefix, run } of mounted) {
      if (prefix && path !== prefix && !path.startsWith(`${prefix}/`)) continue;
      const inside = path.slice(prefix.length) || '/';
      if (inside === requested) return run(ctx, next);
      if (prefix) ctx.mountPath = prefix; // oidc-provider builds endpoint URLs with it
      ctx.path = inside;
      try {
        return await run(ctx, next);
      } finally {
        ctx.path = requested;
      }
    }
    return next();
  };
}
