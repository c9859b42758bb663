import type { Middleware } from 'koa';
import type { Logger } from '../../log.ts';
import type { ApiState } from '../token-guard/challenges.ts';

/**
 * One line per API request: method, path (never the query: it may carry a token), status, time,
 * and who called — token id (`jti`, or a hash prefix for opaque tokens), `client_id`, `sub`,
 * scopes, scheme — or why the call was refused. Never the token itself.
 */
export function callLog(logger: Logger): Middleware {
  // Not async itself: when info is off, a request passes through without a promise of its own.
  return function logCall(ctx, next) {
    return logger.isLevelEnabled('info') ? logTimed(ctx, next) : next();
  };

  async function logTimed(ctx: Parameters<Middleware>[0], next: () => Promise<unknown>): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const { caller, scheme, rejection } = ctx.state as ApiState;
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      logger.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms,
          ...(caller
            ? {
                jti: caller.tokenId,
                client_id: caller.client_id,
                sub: caller.sub,
                scope: [...caller.scopes].join(' '),
                scheme,
                token_format: caller.format,
              }
            : {}),
          ...(rejection ? { rejected: rejection } : {}),
        },
        'request',
      );
    }
  }
}
