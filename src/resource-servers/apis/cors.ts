/**
 * CORS for browser apps calling the mock APIs with bearer or DPoP tokens. No cookies are involved,
 * so credentials are never allowed; allowed origins are echoed (with `Vary: Origin`), and the
 * headers a token client must read on errors (`WWW-Authenticate`, `DPoP-Nonce`) are exposed.
 */
import type { Middleware } from 'koa';

export interface CorsSettings {
  /** Exact origins (`http://localhost:5173`), or `*` for any. */
  origins: readonly string[];
  /** Methods the API serves, announced in preflight answers. */
  methods: readonly string[];
}

const ALLOWED_HEADERS = 'Authorization, DPoP, Content-Type, Accept, If-Match';
const EXPOSED_HEADERS = 'WWW-Authenticate, DPoP-Nonce';

export function cors({ origins, methods }: CorsSettings): Middleware {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((origin) => origin.replace(/\/+$/, '')));
  return function cors(ctx, next) {
    ctx.vary('Origin');
    const origin = ctx.get('Origin');
    if (!origin || !(any || allowed.has(origin))) return next();
    ctx.set('Access-Control-Allow-Origin', origin);
    const preflight = ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method');
    if (!preflight) {
      ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      return next();
    }
    ctx.set('Access-Control-Allow-Methods', methods.join(', '));
    // Echo what the browser asks for: a test double should not fail on an extra request header.
    ctx.set('Access-Control-Allow-Headers', ctx.get('Access-Control-Request-Headers') || ALLOWED_HEADERS);
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
    return Promise.resolve();
  };
}

/** Default allowed origins: those of the fixture clients' redirect and post-logout URIs. */
export function clientOrigins(clients: ReadonlyArray<{ redirect_uris?: string[]; post_logout_redirect_uris?: string[] }>): string[] {
  const origins = new Set<string>();
  for (const client of clients) {
    for (const uri of [...(client.redirect_uris ?? []), ...(client.post_logout_redirect_uris ?? [])]) {
      const url = URL.parse(uri);
      if (url && (url.protocol === 'http:' || url.protocol === 'https:')) origins.add(url.origin);
    }
  }
  return [...origins];
}
