/**
 * CIBA control endpoints (under the issuer's `/_testbed`):
 *   GET  /ciba                         pending requests: the page, or JSON for `Accept: application/json`
 *   POST /ciba/:auth_req_id/approve    → `{ status: "approved" }` (ping clients: `notified`)
 *   POST /ciba/:auth_req_id/deny       → `{ status: "denied" }`; optional body `error_description`
 * Browser form posts (which prefer HTML) are redirected back to the page instead.
 */

import type Router from '@koa/router';
import type { Context } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';
import { FORM, JSON_TYPES, parseBody } from '../http/request-body.ts';
import { type CibaController, type CibaDecision, CibaRequestNotFoundError, type PendingCibaRequest } from '../provider/extensions/ciba.ts';
import { cibaControlPage } from './ciba-page.ts';

export interface CibaControlOptions {
  ciba: CibaController;
  /** Path of the control routes as the browser sees it (`<mount path>/_testbed`). */
  basePath: string;
}

/** An optional deny reason: one line of plain text, as a description in an OAuth error response. */
const DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,200}$/; // RFC 6749 §5.2 error_description characters

export function addCibaControl(router: Router, options: CibaControlOptions): void {
  const { ciba } = options;
  const page = `${options.basePath}/ciba`;
  const parseDecision = parseBody({ form: FORM, json: JSON_TYPES, limit: 4 * 1024 });
  const fromBrowser = (ctx: Context) => ctx.accepts('json', 'html') === 'html';

  const showPage = async (ctx: Context, notice?: string) => {
    ctx.type = 'html';
    ctx.body = cibaControlPage({
      requests: await ciba.pending(),
      actionBase: page,
      self: page,
      now: Math.floor(Date.now() / 1000),
      notice,
    });
  };

  const decide = (decision: (ctx: Context, authReqId: string) => Promise<CibaDecision>) => async (ctx: Context) => {
    const authReqId = (ctx.params as Record<string, string>).auth_req_id;
    let result: CibaDecision;
    try {
      result = await decision(ctx, authReqId);
    } catch (error) {
      if (!(error instanceof CibaRequestNotFoundError)) throw error;
      if (!fromBrowser(ctx)) return answerOAuthError(ctx, 404, 'not_found', error.message);
      ctx.status = 404;
      return showPage(ctx, error.message);
    }
    if (fromBrowser(ctx)) {
      ctx.status = 303;
      ctx.redirect(page);
    } else {
      ctx.body = result;
    }
    return undefined;
  };

  router.get('/ciba', async (ctx) => {
    if (ctx.accepts('html', 'json') === 'json') ctx.body = { pending: (await ciba.pending()).map(asJson) };
    else await showPage(ctx);
  });

  router.post(
    '/ciba/:auth_req_id/approve',
    parseDecision,
    decide((_ctx, authReqId) => ciba.approve(authReqId)),
  );

  router.post(
    '/ciba/:auth_req_id/deny',
    parseDecision,
    async (ctx, next) => {
      const { error_description: description } = (ctx.request.body ?? {}) as Record<string, unknown>;
      if (description !== undefined && (typeof description !== 'string' || !DESCRIPTION.test(description))) {
        return answerOAuthError(
          ctx,
          400,
          'invalid_request',
          'error_description must be 1 to 200 printable ASCII characters without " or \\ (RFC 6749 §5.2)',
        );
      }
      ctx.state.description = description;
      return next();
    },
    decide((ctx, authReqId) => ciba.deny(authReqId, ctx.state.description as string | undefined)),
  );
}

/** The HTTP shape of a pending request: OAuth's snake_case names. */
function asJson(request: PendingCibaRequest) {
  return {
    auth_req_id: request.authReqId,
    client_id: request.clientId,
    client_name: request.clientName,
    sub: request.sub,
    username: request.username,
    scope: request.scope,
    resource: request.resources,
    binding_message: request.bindingMessage,
    delivery_mode: request.deliveryMode,
    requested_at: request.requestedAt,
    expires_at: request.expiresAt,
  };
}
