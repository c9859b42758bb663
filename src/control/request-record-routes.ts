/**
 * `GET <issuer>/_testbed/requests?since=<cursor>&endpoint=<route>`: what the issuer answered, oldest
 * first, each with the parameters the client sent and the tokens issued (redacted: see
 * src/issuers/issuer-record.ts) — what a failing RP test prints ("what did my app send?").
 * `cursor` in the answer is the `since` that shows only what comes next. `DELETE` clears it.
 * `GET …/requests/stream`: the same entries as Server-Sent Events as they happen (request-stream.ts).
 */
import type Router from '@koa/router';
import { answerOAuthError } from '../http/error-answers.ts';
import type { RequestRecord } from '../http/request-record.ts';
import { BAD_CURSOR, BAD_ENDPOINT, CURSOR, ENDPOINT, shownRequest } from './recorded-json.ts';
import { type RequestStreamOptions, requestStream } from './request-stream.ts';

export function addRequestRecord(router: Router, record: RequestRecord, options: RequestStreamOptions = {}): void {
  router.get('/requests/stream', requestStream(record, options));
  router.get('/requests', (ctx) => {
    const { since, endpoint } = ctx.query;
    if (since !== undefined && (typeof since !== 'string' || !CURSOR.test(since))) {
      return answerOAuthError(ctx, 400, 'invalid_request', BAD_CURSOR);
    }
    if (endpoint !== undefined && (typeof endpoint !== 'string' || !ENDPOINT.test(endpoint))) {
      return answerOAuthError(ctx, 400, 'invalid_request', BAD_ENDPOINT);
    }
    const requests = record.list({ since: since === undefined ? undefined : Number(since), route: endpoint });
    ctx.body = { cursor: record.cursor, requests: requests.map(shownRequest) };
  });
  router.delete('/requests', (ctx) => {
    record.clear();
    ctx.status = 204;
  });
}
