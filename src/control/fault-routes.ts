/**
 * The issuer's fault rules at run time (under `<issuer>/_testbed`; src/control/faults.ts):
 *   GET    /faults        → `{ faults: [{ id, …rule, hits }, …] }`, in the order they are tried
 *   POST   /faults        a rule (src/fixtures/fault-rule.ts) → 201 `{ id, …rule, hits: 0 }`; 409 for an id in force
 *   GET    /faults/:id    → the rule with its hits, or 404
 *   DELETE /faults/:id    → 204, or 404
 *   DELETE /faults        → 204: every rule out of force, the fixture's too (until reset)
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';
import { FaultRuleError, type Faults } from './faults.ts';
import { jsonObjectBody } from './json-body.ts';

export function addFaultRoutes(router: Router, faults: Faults): void {
  const idOf = (ctx: Context) => (ctx.params as Record<string, string>).id;
  const unknown = (ctx: Context) => answerOAuthError(ctx, 404, 'not_found', `no fault "${idOf(ctx)}" is in force`);

  router.get('/faults', async (ctx) => {
    ctx.body = { faults: await faults.list() };
  });

  router.post('/faults', jsonObjectBody({ limit: 64 * 1024, shape: 'a fault rule' }), async (ctx) => {
    try {
      const { id } = await faults.add(ctx.request.body);
      ctx.status = 201;
      ctx.set('Location', new URL(`${ctx.path.replace(/\/$/, '')}/${encodeURIComponent(id)}`, ctx.href).href);
      ctx.body = await faults.get(id);
    } catch (error) {
      if (!(error instanceof FaultRuleError)) throw error;
      answerOAuthError(ctx, error.status, error.status === 409 ? 'conflict' : 'invalid_request', error.message);
    }
  });

  router.get('/faults/:id', async (ctx) => {
    const rule = await faults.get(idOf(ctx));
    if (!rule) return unknown(ctx);
    ctx.body = rule;
    return undefined;
  });

  router.delete('/faults/:id', async (ctx) => {
    if (!(await faults.remove(idOf(ctx)))) return unknown(ctx);
    ctx.status = 204;
    return undefined;
  });

  router.delete('/faults', async (ctx) => {
    await faults.clear();
    ctx.status = 204;
  });
}
