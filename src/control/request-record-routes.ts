/**
 * `GET <issuer>/_testbed/requests?since=<cursor>&endpoint=<route>`: what the issuer answered, oldest
 * first, each with the parameters the client sent and the tokens issued (redacted: see
 * src/issuers/issuer-record.ts) — what a failing RP test prints ("what did my app send?").
 * `cursor` in the answer is the `since` that shows only what comes next. `DELETE` clears it.
 */
import type Router from '@koa/router';
import { answerOAuthError } from '../http/error-answers.ts';
import type { RequestRecord } from '../http/request-record.ts';

export function addRequestRecord(router: Router, record: RequestRecord): void {
  router.get('/requests', (ctx) => {
    const { since, endpoint } = ctx.query;
    if (since !== undefined && (typeof since !== 'string' || !/^\d{1,15}$/.test(since))) {
      return answerOAuthError(ctx, 400, 'invalid_request', 'since must be a cursor from an earlier answer (a whole number)');
    }
    if (endpoint !== undefined && (typeof endpoint !== 'string' || !/^[a-z_-]{1,40}$/.test(endpoint))) {
      return answerOAuthError(
        ctx,
        400,
        'invalid_request',
        'endpoint must be an engine route name (token, userinfo, authorization, …) or profile-api / directory-api',
      );
    }
    const requests = record.list({ since: since === undefined ? undefined : Number(since), route: endpoint });
    ctx.body = {
      cursor: record.cursor,
      requests: requests.map(({ at, route, ...request }) => ({
        ...request,
        at: new Date(at).toISOString(),
        endpoint: route ?? request.path,
      })),
    };
  });
  router.delete('/requests', (ctx) => {
    record.clear();
    ctx.status = 204;
  });
}
