import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import { HEALTH_PATH } from '../endpoints.ts';
import type { Issuer } from './create-issuer.ts';
import { authorizationServerMetadataOfPaths } from './metadata-paths.ts';

export interface IdpRoutes {
  health: (ctx: Context) => Promise<void>;
  issuers: readonly Issuer[];
  /** Issuers made on their first request (conformance scenario runs), tried before the fixed ones. */
  dynamic?: DynamicIssuers;
}

/** An issuer served under `prefix`, perhaps still being created. */
export interface DynamicIssuer {
  prefix: string;
  /** The issuer, created on the first call. */
  issuer(): Promise<Issuer>;
}

export interface DynamicIssuers {
  /** The issuer a path is under, or undefined when it is none of these; throws an exposed error for a bad name. */
  find(path: string): DynamicIssuer | undefined;
}

/**
 * The IdP port's one dispatching layer: `/healthz`, then each request to the issuer whose path it
 * is under (the longest first: the main issuer, at the root, would otherwise answer for the
 * others), as koa-mount would mount it.
 */
export function routeIdpRequest(routes: IdpRoutes): Middleware {
  const composed = composer();
  const mounted = [...routes.issuers]
    .sort((a, b) => b.mountPath.length - a.mountPath.length)
    .map((issuer) => ({ prefix: issuer.mountPath, run: composed(issuer) }));
  const served = new Set(routes.issuers.map((issuer) => issuer.mountPath).filter(Boolean));
  const toMetadataOfPath = authorizationServerMetadataOfPaths((path) => served.has(path) || routes.dynamic?.find(path)?.prefix === path);
  return async function routeIdpRequest(ctx, next) {
    // A target like `//jwks?@#` parses to no path at all (Koa's ctx.path is null).
    if (typeof ctx.path !== 'string') throw Object.assign(new Error('the request target is not a path'), { status: 400, expose: true });
    if (ctx.path === HEALTH_PATH) return routes.health(ctx);
    const requested = ctx.path;
    const path = toMetadataOfPath(requested);
    const dynamic = routes.dynamic?.find(path);
    if (dynamic) return serveUnder(ctx, next, requested, path, dynamic.prefix, composed(await dynamic.issuer()));
    for (const { prefix, run } of mounted) {
      if (prefix && path !== prefix && !path.startsWith(`${prefix}/`)) continue;
      return serveUnder(ctx, next, requested, path, prefix, run);
    }
    return next();
  };
}

/** Runs an issuer's middleware with the path inside it, as koa-mount would. */
async function serveUnder(
  ctx: Context,
  next: () => Promise<void>,
  requested: string,
  path: string,
  prefix: string,
  run: Middleware,
): Promise<void> {
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

/** An issuer's engine middleware as one function, composed once per issuer. */
function composer(): (issuer: Issuer) => Middleware {
  const composedOnce = new WeakMap<Issuer, Middleware>();
  return (issuer) => {
    let run = composedOnce.get(issuer);
    if (!run) {
      run = compose(issuer.provider.middleware as Middleware[]);
      composedOnce.set(issuer, run);
    }
    return run;
  };
}
