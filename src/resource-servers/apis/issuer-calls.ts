import type { Middleware } from 'koa';
import type { RequestRecord } from '../../http/request-record.ts';
import type { ApiState } from '../token-guard/challenges.ts';

/**
 * Each call an API authenticated goes into the request record of the issuer whose token it carried
 * (`<issuer>/_testbed/requests`, endpoint `profile-api` or `directory-api`): the caller's client,
 * the status and the OAuth error. A call whose token no trusted issuer signed is in no issuer's
 * record (the API's own log has it).
 */
export function recordIssuerCalls(endpoint: string, recordOf: (iss: string) => RequestRecord | undefined): Middleware {
  return async function recordIssuerCall(ctx, next) {
    const at = Date.now();
    const started = process.hrtime.bigint();
    const path = ctx.path;
    try {
      await next();
    } finally {
      const { caller } = ctx.state as ApiState;
      const record = caller ? recordOf(caller.issuer) : undefined;
      if (caller && record) {
        const body = ctx.body as { error?: unknown; code?: unknown } | null | undefined;
        const error = body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body.error === 'string' ? body.error : undefined;
        record.add({
          at,
          method: ctx.method,
          path,
          status: ctx.status,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
          route: endpoint,
          ...(caller.client_id ? { client_id: caller.client_id } : {}),
          ...(ctx.status >= 400 && error ? { error } : {}),
        });
      }
    }
  };
}
