import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { engineContext } from './request-record.ts';

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
      const client = engineContext(ctx)?.client?.clientId;
      logger.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10, ...(client ? { client_id: client } : {}) },
        'request',
      );
    }
  };
}
