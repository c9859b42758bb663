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

/**
 * Last line of defence: anything that escapes a route becomes a JSON OAuth-style error without a
 * stack trace. Client mistakes (Koa's `expose` errors, body-parser failures) keep their 4xx status.
 */
export function errorBoundary(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      answerUnhandledError(ctx, logger, caught);
    }
  };
}

function answerUnhandledError(ctx: Context, logger: Logger, caught: unknown): void {
  const error = caught as Error & { status?: number; expose?: boolean; error?: string; error_description?: string };
  const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500;
  if (status >= 500) logger.error({ err: error, path: ctx.path }, 'unhandled error');
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = status < 500
    ? { error: error.error ?? 'invalid_request', error_description: error.error_description ?? (error.expose ? error.message : 'invalid request') }
    : { error: 'server_error', error_description: 'unexpected error; see the testbed log' };
}

/**
 * While the store (Redis) is unreachable: the testbed's own routes answer as oidc-provider's do,
 * `503 {"error":"temporarily_unavailable",…}` (an error page for browsers), and every 503 says when
 * to retry (RFC 9110 §10.2.3): the store reconnects every 150 ms.
 */
export function storeOutage(): Middleware {
  return async function answerStoreOutage(ctx, next) {
    try {
      await next();
    } catch (caught) {
      if (!(caught instanceof StoreUnavailableError)) throw caught;
      answerStoreUnavailable(ctx, caught);
    }
    if (ctx.status === 503) ctx.set('Retry-After', '1');
  };
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

/** `storeOutage()` inside `errorBoundary()` as one layer, for the IdP's outer app. */
export function answerErrors(logger: Logger): Middleware {
  return async function answerErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      if (caught instanceof StoreUnavailableError) answerStoreUnavailable(ctx, caught);
      else answerUnhandledError(ctx, logger, caught);
    }
    if (ctx.status === 503) ctx.set('Retry-After', '1');
  };
}
