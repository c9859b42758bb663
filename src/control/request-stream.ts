/**
 * `GET <issuer>/_testbed/requests/stream`: the request record as Server-Sent Events (HTML Living
 * Standard §9.2): each request as it completes, one `request` event whose `id` is its `seq` and
 * whose data is the entry as `GET …/requests` shows it. A reconnecting EventSource sends the last
 * id it saw as `Last-Event-ID`; the entries after it that the record still keeps come first (so does
 * `?since=<cursor>`; neither: only what comes next). `?endpoint=` filters as on `…/requests`. A
 * comment line every `heartbeatMs` keeps proxies and idle timeouts from closing a quiet stream.
 */
import { PassThrough } from 'node:stream';
import type { Middleware } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';
import type { RecordedRequest, RequestRecord } from '../http/request-record.ts';
import { BAD_CURSOR, BAD_ENDPOINT, CURSOR, ENDPOINT, shownRequest } from './recorded-json.ts';

export const DEFAULT_HEARTBEAT_MS = 15_000;
/** How long a browser waits before reconnecting after the stream ends (the `retry` field, ms). */
const RETRY_MS = 2_000;

export interface RequestStreamOptions {
  /** Milliseconds between heartbeat comments (default 15 s). */
  heartbeatMs?: number;
}

export function requestStream(record: RequestRecord, options: RequestStreamOptions = {}): Middleware {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  return async function streamRequests(ctx) {
    const { since, endpoint } = ctx.query;
    const lastEventId = ctx.get('last-event-id');
    const resume = lastEventId || since;
    if (resume !== undefined && (typeof resume !== 'string' || !CURSOR.test(resume))) {
      return answerOAuthError(ctx, 400, 'invalid_request', lastEventId ? `Last-Event-ID: ${BAD_CURSOR}` : BAD_CURSOR);
    }
    if (endpoint !== undefined && (typeof endpoint !== 'string' || !ENDPOINT.test(endpoint))) {
      return answerOAuthError(ctx, 400, 'invalid_request', BAD_ENDPOINT);
    }
    const route = endpoint;
    const stream = new PassThrough();
    const send = (request: RecordedRequest) => {
      if (route !== undefined && request.route !== route) return;
      stream.write(`id: ${request.seq}\nevent: request\ndata: ${JSON.stringify(shownRequest(request))}\n\n`);
    };

    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('X-Accel-Buffering', 'no'); // nginx would otherwise hold the events back
    ctx.body = stream;

    stream.write(`retry: ${RETRY_MS}\n: cursor ${record.cursor}\n\n`);
    // Listing and subscribing in one turn of the event loop: no request can complete in between.
    if (resume !== undefined) for (const request of record.list({ since: Number(resume), route })) send(request);
    const unsubscribe = record.subscribe(send);
    const heartbeat = setInterval(() => stream.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      stream.end();
    };
    // The client went away, or the server is closing its connections (the request's own `close` comes once it is read).
    ctx.res.once('close', close);
    stream.once('error', close);
  };
}
