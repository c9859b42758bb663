/**
 * A client asking for a grant type it is not registered for (`grant_types`) is `unauthorized_client`
 * (RFC 6749 §5.2: "The authenticated client is not authorized to use this authorization grant
 * type"). oidc-provider 9 answers `invalid_request`; the answer is corrected on the way out.
 */
import type { Middleware } from 'koa';

const ENGINE_DESCRIPTION = 'requested grant type is not allowed for this client';

export function answerUnauthorizedClient(tokenPath: string): Middleware {
  return async function answerUnauthorizedClient(ctx, next) {
    await next();
    if (ctx.path !== tokenPath || ctx.status !== 400) return;
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (body?.error !== 'invalid_request' || body.error_description !== ENGINE_DESCRIPTION) return;
    ctx.body = { error: 'unauthorized_client', error_description: 'this client is not registered for this grant type (grant_types)' };
  };
}
