import type { Middleware } from 'koa';
import { type RequestRecord, recordRequests } from '../../http/request-record.ts';
import type { ApiState } from '../token-guard/challenges.ts';

/**
 * Each call an API authenticated goes into the request record of the issuer whose token it carried
 * (`<issuer>/_testbed/requests`, endpoint `profile-api` or `directory-api`): the caller's client,
 * the status and the OAuth error. A call whose token no trusted issuer signed is in no issuer's
 * record (the API's own log has it).
 */
export function recordIssuerCalls(endpoint: string, recordOf: (iss: string) => RequestRecord | undefined): Middleware {
  const callerOf = (ctx: { state: unknown }) => (ctx.state as ApiState).caller;
  return recordRequests(
    (ctx) => {
      const caller = callerOf(ctx);
      return caller ? recordOf(caller.issuer) : undefined;
    },
    (ctx) => {
      const clientId = callerOf(ctx)?.client_id;
      return { route: endpoint, ...(clientId ? { client_id: clientId } : {}) };
    },
  );
}
