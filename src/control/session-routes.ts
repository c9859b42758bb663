/**
 * Sessions under `<issuer>/_testbed` (src/control/sessions.ts):
 *   GET    /sessions        → `{ sessions: [{ sid, sub, clients, client_sids, auth_time, expires_at }] }`
 *   DELETE /sessions/:sid   → `{ ended, logout: [{ client_id, uri, status } | { client_id, uri, error }] }`
 *                             (OP-initiated logout: back-channel logout tokens to the session's clients); 404 when unknown
 */
import type Router from '@koa/router';
import { answerOAuthError } from '../http/error-answers.ts';
import { SessionNotFoundError, type Sessions } from './sessions.ts';

export function addSessionRoutes(router: Router, sessions: Sessions): void {
  router.get('/sessions', async (ctx) => {
    ctx.body = { sessions: await sessions.list() };
  });
  router.delete('/sessions/:sid', async (ctx) => {
    try {
      ctx.body = await sessions.end((ctx.params as Record<string, string>).sid);
    } catch (error) {
      if (!(error instanceof SessionNotFoundError)) throw error;
      answerOAuthError(ctx, 404, 'not_found', error.message);
    }
  });
}
