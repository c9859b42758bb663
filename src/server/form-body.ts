/**
 * Reading a request body before oidc-provider does, and handing it on: middleware that must look
 * at (or rewrite) form parameters of an engine endpoint reads the body here and pushes it back
 * into the request stream, so the engine reads and parses it as usual.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';

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
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      req.off('readable', onReadable).off('error', onError);
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
    req.on('readable', onReadable).on('error', onError);
  });
}

/** Hands oidc-provider `body` instead of the request's own, which `peekBody` has pushed back. */
function swapPeekedBody(req: IncomingMessage, peeked: Buffer, body: Buffer): void {
  req.read(peeked.length);
  req.unshift(body);
  req.headers['content-length'] = String(body.length);
}

/**
 * The parameters of an application/x-www-form-urlencoded request body, read and handed on
 * unchanged (`replaceFormParameters` hands on others instead). A body over the limit is answered
 * here, as oidc-provider answers one (RFC 6749 §5.2), and gives `undefined`.
 */
export async function readFormParameters(ctx: Context): Promise<URLSearchParams | undefined> {
  const raw = await peekBody(ctx.req, ctx.request.length);
  if (raw === undefined) {
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
    return undefined;
  }
  const params = new URLSearchParams(raw.toString('utf8'));
  peeked.set(params, raw);
  return params;
}

/** The body each parameter set was read from, to be swapped out by `replaceFormParameters`. */
const peeked = new WeakMap<URLSearchParams, Buffer>();

/** Hands oidc-provider `params` in place of the body `readFormParameters` read them from. */
export function replaceFormParameters(ctx: Context, params: URLSearchParams): void {
  const raw = peeked.get(params);
  if (raw === undefined) throw new Error('replaceFormParameters takes the parameters readFormParameters returned');
  swapPeekedBody(ctx.req, raw, Buffer.from(params.toString()));
}
