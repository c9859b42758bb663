/**
 * Reading a request body before oidc-provider does, and handing it on: middleware that must look
 * at (or rewrite) form parameters of an engine endpoint reads the body here and pushes it back
 * into the request stream, so the engine reads and parses it as usual.
 */

import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { answerOAuthError } from './error-answers.ts';

/** oidc-provider's own body limit. */
const MAX_BODY_BYTES = 56 * 1024;

/**
 * The whole body, read without ending the request: once the HTTP message is complete
 * (`req.complete`) the data is pushed back with `unshift`, so oidc-provider reads the request as
 * if nobody had (Node's stream checks for "one last unshift" before it emits `end`). `undefined`
 * when the body is larger than MAX_BODY_BYTES; the request is then left paused.
 */
function peekBody(req: IncomingMessage, declaredLength: number | undefined): Promise<Buffer | undefined> {
  if (declaredLength !== undefined && declaredLength > MAX_BODY_BYTES) return Promise.resolve(undefined);
  if (declaredLength === 0) return Promise.resolve(Buffer.alloc(0)); // nothing to read: the stream stays untouched
  // Cut off before anyone listened (a layer before this one awaited its store): no event will come.
  if (req.readableAborted || (req.destroyed && !req.complete)) return Promise.reject(new Error('the client closed the request'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      req.off('readable', onReadable).off('error', onError).off('close', onClose);
    };
    // A request closed before its body was complete, whether or not an 'error' came with it.
    const onClose = () => {
      if (req.complete) return;
      settle();
      reject(new Error('the client closed the request'));
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = req.read() as Buffer | null) !== null) {
        size += chunk.length;
        // Stopping early must not destroy the request: that resets the connection the answer uses.
        if (size > MAX_BODY_BYTES) {
          settle();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      }
      if (!req.complete) return;
      settle();
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      if (size > 0) req.unshift(body);
      resolve(body);
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    req.on('readable', onReadable).on('error', onError).on('close', onClose);
  });
}

/**
 * The parameters of an application/x-www-form-urlencoded request body, read and handed on
 * unchanged (`replaceFormParameters` hands on others instead). A body over the limit, or cut off
 * by the client, is answered here, as oidc-provider answers one (RFC 6749 §5.2), and gives
 * `undefined`.
 */
export async function readFormParameters(ctx: Context): Promise<URLSearchParams | undefined> {
  let raw: Buffer | undefined;
  try {
    raw = await peekBody(ctx.req, ctx.request.length);
  } catch {
    // The stream fails when the client closes the connection before its body is complete.
    answerBodyError(ctx, 'the request body ended before it was complete');
    return undefined;
  }
  if (raw === undefined) {
    answerBodyError(ctx, 'request body too large');
    return undefined;
  }
  return new URLSearchParams(raw.toString('utf8'));
}

function answerBodyError(ctx: Context, description: string): void {
  answerOAuthError(ctx, 400, 'invalid_request', description);
}

/**
 * Hands oidc-provider `params` in place of the body `readFormParameters` pushed back: what the
 * request holds is taken out again (the whole message has arrived, so that is the body) and the
 * new body pushed back in its place, with its length.
 */
export function replaceFormParameters(ctx: Context, params: URLSearchParams): void {
  const body = Buffer.from(params.toString());
  ctx.req.read();
  ctx.req.unshift(body);
  ctx.req.headers['content-length'] = String(body.length);
}
