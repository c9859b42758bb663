/**
 * Direct tokens under `<issuer>/_testbed` (src/control/direct-tokens.ts):
 *   POST /tokens  `{ sub, client_id, resource?, scope?, ttl_s?, claims?, dpop_jkt?, id_token? }`
 *              → a token response `{ access_token, token_type, expires_in, scope, id_token? }`;
 *                400 `invalid_request` naming the field the issuer would not issue for.
 */
import type Router from '@koa/router';
import { answerOAuthError } from '../http/error-answers.ts';
import { DirectTokenError, type DirectTokens } from './direct-tokens.ts';
import { jsonObjectBody } from './json-body.ts';

export function addTokenRoutes(router: Router, tokens: DirectTokens): void {
  const order = jsonObjectBody({ limit: 64 * 1024, shape: '{ "sub": …, "client_id": …, … }' });
  router.post('/tokens', order, async (ctx) => {
    try {
      ctx.body = await tokens.issue(ctx.request.body);
    } catch (error) {
      if (!(error instanceof DirectTokenError)) throw error;
      answerOAuthError(ctx, 400, 'invalid_request', error.message);
    }
    return undefined;
  });
}
