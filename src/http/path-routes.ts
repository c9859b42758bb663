/**
 * One cheap layer that picks the middleware a request needs by its path, so a request that none
 * applies to (JWKS, userinfo, most engine routes) crosses one function call instead of a dozen
 * async layers. Paths compare as oidc-provider's router compares them: case-insensitively, one
 * trailing slash ignored.
 */

import type { Middleware } from 'koa';
import compose from 'koa-compose';

// Routers type their context more narrowly than plain middleware; any Koa middleware may be routed.
// biome-ignore lint/suspicious/noExplicitAny: a router's middleware has its own context type
type AnyMiddleware = Middleware<any, any>;

export interface PathRoutes {
  /** Middleware for exactly these paths, in order. */
  exact: ReadonlyArray<readonly [path: string, stack: readonly AnyMiddleware[]]>;
  /** Middleware for a prefix (e.g. `/interaction`) and every path under it; the first match wins. */
  prefixes?: ReadonlyArray<readonly [prefix: string, stack: readonly AnyMiddleware[]]>;
}

/** The form a path is looked up in. */
function routeKey(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.toLowerCase();
}

export function routeByPath(routes: PathRoutes): Middleware {
  const exact = new Map<string, Middleware>();
  for (const [path, stack] of routes.exact) {
    const key = routeKey(path);
    if (exact.has(key)) throw new Error(`path ${path} is routed twice`);
    if (stack.length > 0) exact.set(key, composeStack(stack));
  }
  const prefixes = (routes.prefixes ?? [])
    .filter(([, stack]) => stack.length > 0)
    .map(([prefix, stack]) => [routeKey(prefix), `${routeKey(prefix)}/`, composeStack(stack)] as const);
  return function routeByPath(ctx, next) {
    const key = routeKey(ctx.path);
    const handler = exact.get(key) ?? prefixes.find(([prefix, under]) => key === prefix || key.startsWith(under))?.[2];
    return handler ? handler(ctx, next) : next();
  };
}

function composeStack(stack: readonly AnyMiddleware[]): Middleware {
  return stack.length === 1 ? stack[0] : (compose([...stack]) as Middleware);
}
