import type { Middleware } from 'koa';
import type { Logger } from 'pino';

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
      const client = clientIdOf(ctx);
      logger.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10, ...(client ? { client_id: client } : {}) },
        'request',
      );
    }
  };
}

/** The client oidc-provider authenticated or named for the request, on the engine's own routes. */
export function clientIdOf(ctx: object): string | undefined {
  // oidc-provider defines ctx.oidc on its own routes only; reading it elsewhere would create one.
  return Object.hasOwn(ctx, 'oidc') ? (ctx as { oidc: { client?: { clientId: string } } }).oidc.client?.clientId : undefined;
}
