/**
 * Reading a request body before oidc-provider does, and handing it on: middleware that must look
 * at (or rewrite) form parameters of an engine endpoint reads the body here and replays it, so the
 * engine parses it as usual.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';

/** oidc-provider's own body limit. */
const MAX_BODY_BYTES = 56 * 1024;

/** The body, or `undefined` when it is larger than MAX_BODY_BYTES. */
function readBody(req: IncomingMessage, declaredLength: number | undefined): Promise<Buffer | undefined> {
  if (declaredLength !== undefined && declaredLength > MAX_BODY_BYTES) return Promise.resolve(undefined);
  // Plain stream events: an async iterator costs more than a small form body.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Stopping early must not destroy the request: that resets the connection the answer uses.
      settle();
      req.pause();
      resolve(undefined);
    };
    const onEnd = () => {
      settle();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/**
 * Makes an already-read request readable once more with `body`: oidc-provider reads bodies through
 * `req.iterator()` after checking `req.readable`.
 */
function replayBody(req: IncomingMessage, body: Buffer): void {
  req.headers['content-length'] = String(body.length);
  Object.defineProperty(req, 'readable', { value: true, configurable: true });
  Object.defineProperty(req, 'iterator', {
    configurable: true,
    value: async function* iterator() {
      yield body;
    },
  });
}

/**
 * The parameters of an application/x-www-form-urlencoded request body, read and handed on
 * unchanged (`replaceFormParameters` hands on others instead). A body over the limit is answered
 * here, as oidc-provider answers one (RFC 6749 §5.2), and gives `undefined`.
 */
export async function readFormParameters(ctx: Context): Promise<URLSearchParams | undefined> {
  const raw = await readBody(ctx.req, ctx.request.length);
  if (raw === undefined) {
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
    return undefined;
  }
  replayBody(ctx.req, raw);
  return new URLSearchParams(raw.toString('utf8'));
}

export function replaceFormParameters(ctx: Context, params: URLSearchParams): void {
  replayBody(ctx.req, Buffer.from(params.toString()));
}
