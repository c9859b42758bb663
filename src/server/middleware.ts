import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { errorPage } from '../provider/pages.ts';
import { StoreUnavailableError } from '../store/store-unavailable.ts';

/**
 * One line per request: method, path (never the query: it may carry codes and tokens), status, time.
 * Add it only when the logger's level includes `info`.
 */
export function requestLog(logger: Logger): Middleware {
  return async function logRequest(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // oidc-provider defines ctx.oidc on its own routes only; reading it elsewhere would create one.
      const client = Object.hasOwn(ctx, 'oidc') ? (ctx as unknown as { oidc: { client?: { clientId: string } } }).oidc.client?.clientId : undefined;
      logger.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10, ...(client ? { client_id: client } : {}) }, 'request');
    }
  };
}

function answerUnhandledError(ctx: Context, logger: Logger, caught: unknown): void {
  const error = caught as Error & { status?: number; expose?: boolean; error?: string; error_description?: string };
  const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500;
  if (status >= 500) {
    logger.error({ err: error, path: ctx.path }, 'unhandled error');
    answerOAuthError(ctx, status, 'server_error', 'unexpected error; see the testbed log');
  } else {
    answerOAuthError(ctx, status, error.error ?? 'invalid_request', error.error_description ?? (error.expose ? error.message : 'invalid request'));
  }
}

/** An OAuth error answer (RFC 6749 §5.2): the status, `Cache-Control: no-store`, `{ error, error_description }`. */
export function answerOAuthError(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

function answerStoreUnavailable(ctx: Context, caught: StoreUnavailableError): void {
  ctx.status = 503;
  ctx.set('Cache-Control', 'no-store');
  if (ctx.accepts('json', 'html') === 'html') {
    ctx.type = 'html';
    ctx.body = errorPage({ error: caught.error, description: caught.error_description, status: 503 });
  } else {
    ctx.body = { error: caught.error, error_description: caught.error_description };
  }
}

/** How an app answers what escapes its routes, a store outage aside (see `answerErrors`). */
export interface ErrorAnswers {
  /** Anything a route throws; client mistakes (Koa's `expose` errors) keep their 4xx status. */
  unhandled(ctx: Context, caught: unknown): void;
  /** A path no route took (404 without a body); without it Koa's plain 404 stands. */
  notFound?(ctx: Context): void;
}

/**
 * The last line of defence, as one layer: nothing escapes as a stack trace. While the store (Redis)
 * is unreachable the testbed's routes answer as oidc-provider's do, `503
 * {"error":"temporarily_unavailable",…}` (an error page for browsers), and every 503 says when to
 * retry (RFC 9110 §10.2.3): the store reconnects every 150 ms. The rest is answered by `answers`.
 */
export function answerErrors(answers: ErrorAnswers): Middleware {
  return async function answerErrors(ctx, next) {
    try {
      await next();
      if (answers.notFound && ctx.status === 404 && ctx.body == null) answers.notFound(ctx);
    } catch (caught) {
      if (caught instanceof StoreUnavailableError) answerStoreUnavailable(ctx, caught);
      else answers.unhandled(ctx, caught);
    }
    if (ctx.status === 503) ctx.set('Retry-After', '1');
  };
}

/** OAuth-style answers: JSON `{ error, error_description }`; a server error is logged, never shown. */
export function oauthErrorAnswers(logger: Logger, notFound?: { error: string; description: string }): ErrorAnswers {
  return {
    unhandled: (ctx, caught) => answerUnhandledError(ctx, logger, caught),
    ...(notFound ? { notFound: (ctx: Context) => answerOAuthError(ctx, 404, notFound.error, notFound.description) } : {}),
  };
}
