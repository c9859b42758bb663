/**
 * `POST <issuer>/_testbed/reset`: the issuer back to its fixture — users, clients, signing keys,
 * faults, clock, sessions, direct tokens and the request record — what a test suite calls between
 * tests instead of restarting the testbed.
 */
import type Router from '@koa/router';

export function addReset(router: Router, reset: () => Promise<void>): void {
  router.post('/reset', async (ctx) => {
    await reset();
    ctx.status = 204;
  });
}
