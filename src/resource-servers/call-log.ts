import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';
import type { ApiState } from './challenges.ts';

/**
 * One line per API request: method, path (never the query: it may carry a token), status, time,
 * and who called — token id (`jti`, or a hash prefix for opaque tokens), `client_id`, `sub`,
 * scopes, scheme — or why the call was refused. Never the token itself.
 */
export function callLog(logger: Logger): Middleware {
  return async function logCall(ctx, next) {
    if (!logger.isLevelEnabled('info')) return next();
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const { caller, scheme, rejection } = ctx.state as ApiState;
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      logger.info({
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms,
        ...(caller ? {
          jti: caller.tokenId,
          client_id: caller.client_id,
          sub: caller.sub,
          scope: [...caller.scopes].join(' '),
          scheme,
          token_format: caller.format,
        } : {}),
        ...(rejection ? { rejected: rejection } : {}),
      }, 'request');
    }
  };
}
