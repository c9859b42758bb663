import type { Middleware } from 'koa';
import { answerOAuthError } from './error-answers.ts';

/**
 * oidc-provider builds the URLs it answers with (discovery, forms, redirects, error pages) on the
 * request's own URL, `ctx.href`: the Host header, or X-Forwarded-Host and X-Forwarded-Proto (the
 * testbed trusts proxy headers). When those make no http(s) URL (`Host: a b`, a port over 65535,
 * `X-Forwarded-Proto: https:`), the request is refused here with 400 instead of ending in a
 * TypeError from `new URL` inside the engine (a 500).
 */
export function refuseUnusableOrigin(): Middleware {
  return function refuseUnusableOrigin(ctx, next) {
    if ((ctx.protocol === 'http' || ctx.protocol === 'https') && URL.canParse(ctx.href)) return next();
    answerOAuthError(
      ctx,
      400,
      'invalid_request',
      'the Host header (or X-Forwarded-Host and X-Forwarded-Proto) does not make a valid http(s) URL',
    );
    return undefined;
  };
}
