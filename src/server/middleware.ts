import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';

/** One line per request: method, path (never the query: it may carry codes and tokens), status, time. */
export function requestLog(logger: Logger): Middleware {
  return async function logRequest(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const client = (ctx.state as { clientId?: string }).clientId;
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
      const error = caught as Error & { status?: number; expose?: boolean; error?: string; error_description?: string };
      const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500;
      if (status >= 500) logger.error({ err: error, path: ctx.path }, 'unhandled error');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = status < 500
        ? { error: error.error ?? 'invalid_request', error_description: error.error_description ?? (error.expose ? error.message : 'invalid request') }
        : { error: 'server_error', error_description: 'unexpected error; see the testbed log' };
    }
  };
}
