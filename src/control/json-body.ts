/**
 * The JSON object body of a control route, as `ctx.request.body`, or a 400 `invalid_request`
 * naming what to send: a body of another type (which src/http/request-body.ts would read as `{}`,
 * e.g. a client with no metadata), malformed JSON, or JSON that is not an object.
 */
import type { Middleware } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';
import { JSON_TYPES, parseBody } from '../http/request-body.ts';

export interface JsonObjectBody {
  /** Bytes; a longer body is 413. */
  limit: number;
  /** What to send, ending each refusal (`the body must be a JSON object: send <shape>`), e.g. `a fault rule`. */
  shape: string;
  /** No body at all (neither a length nor a type) reads as `{}`: every field has its default. */
  optional?: boolean;
}

export function jsonObjectBody({ limit, shape, optional = false }: JsonObjectBody): Middleware {
  const parse = parseBody({ json: JSON_TYPES, limit });
  const refuse = (ctx: Parameters<Middleware>[0], problem: string) =>
    answerOAuthError(ctx, 400, 'invalid_request', `${problem}: send ${shape}`);
  return async function jsonObjectBody(ctx, next) {
    if (optional && ctx.request.length === 0 && !ctx.request.type) {
      ctx.request.body = {};
      return next();
    }
    if (!ctx.request.is(...JSON_TYPES)) return refuse(ctx, 'the body must be a JSON object (Content-Type: application/json)');
    try {
      await parse(ctx, async () => {});
    } catch (error) {
      if ((error as { status?: number }).status !== 400) throw error; // 413, 415: as parseBody answers them
      return refuse(ctx, (error as Error).message);
    }
    const body = ctx.request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse(ctx, 'the body must be a JSON object');
    return next();
  };
}
