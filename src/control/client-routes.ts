/**
 * Clients at run time, under `<issuer>/_testbed` (src/provider/clients.ts keeps them):
 *   GET    /clients              → `{ clients: [{ …entry without client_secret, source }] }`, source
 *                                  `fixture` | `run-time` | `registration` (RFC 7591)
 *   GET    /clients/:client_id   → the client's entry, secret included (the caller passed the control lock)
 *   PUT    /clients/:client_id   a fixture client entry (JSON) → 201 new, 200 replaced, with the stored entry
 *   DELETE /clients/:client_id   → 204; its grants and tokens are revoked
 * A fixture or dynamically registered client_id is 409; a bad entry 400 `invalid_request` naming the
 * field, as the fixture's messages do (this is not RFC 7591 registration, whose
 * `invalid_client_metadata` the control API's callers would have to tell apart from its other 400s).
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';
import { ClientChangeError, type ClientEntryInput, type ClientRegistry } from '../provider/clients.ts';
import { jsonObjectBody } from './json-body.ts';

export function addClientRoutes(router: Router, clients: ClientRegistry): void {
  const clientEntry = jsonObjectBody({ limit: 64 * 1024, shape: 'a fixture client entry' });
  const clientIdOf = (ctx: Context) => (ctx.params as Record<string, string>).client_id;
  const answering = (handler: (ctx: Context) => Promise<void>) => async (ctx: Context) => {
    try {
      await handler(ctx);
    } catch (error) {
      if (!(error instanceof ClientChangeError)) throw error;
      answerOAuthError(ctx, error.status, error.error, error.message);
    }
  };

  router.get('/clients', async (ctx) => {
    ctx.body = { clients: await clients.list() };
  });
  router.get('/clients/:client_id', async (ctx) => {
    const client = await clients.get(clientIdOf(ctx));
    if (!client) return answerOAuthError(ctx, 404, 'not_found', `no client "${clientIdOf(ctx)}"`);
    ctx.body = client;
    return undefined;
  });
  router.put(
    '/clients/:client_id',
    clientEntry,
    answering(async (ctx) => {
      const { client, replaced } = await clients.put(clientIdOf(ctx), ctx.request.body as ClientEntryInput); // checked by `put`
      ctx.status = replaced ? 200 : 201;
      ctx.body = client;
    }),
  );
  router.delete(
    '/clients/:client_id',
    answering(async (ctx) => {
      await clients.remove(clientIdOf(ctx));
      ctx.status = 204;
    }),
  );
}
