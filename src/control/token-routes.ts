/**
 * Direct tokens under `<issuer>/_testbed` (src/control/direct-tokens.ts):
 *   POST /tokens  `{ sub, client_id, resource?, scope?, ttl_s?, claims?, dpop_jkt?, id_token? }`
 *              → a token response `{ access_token, token_type, expires_in, scope, id_token? }`;
 *                400 `invalid_request` naming the field the issuer would not issue for.
 */
import type Router from '@koa/router';
import { answerOAuthError } from '../http/error-answers.ts';
import { JSON_TYPES, parseBody } from '../http/request-body.ts';
import { DirectTokenError, type DirectTokens } from './direct-tokens.ts';

export function addTokenRoutes(router: Router, tokens: DirectTokens): void {
  router.post('/tokens', parseBody({ json: JSON_TYPES, limit: 64 * 1024 }), async (ctx) => {
    if (!ctx.request.is(...JSON_TYPES)) {
      return answerOAuthError(ctx, 400, 'invalid_request', 'the body must be application/json: { "sub": …, "client_id": …, … }');
    }
    try {
      ctx.body = await tokens.issue(ctx.request.body);
    } catch (error) {
      if (!(error instanceof DirectTokenError)) throw error;
      answerOAuthError(ctx, 400, 'invalid_request', error.message);
    }
    return undefined;
  });
}
