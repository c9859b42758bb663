/**
 * The issuer's signing keys at run time (under `<issuer>/_testbed`; src/control/key-rotation.ts):
 *   GET  /keys          → `{ keys: [{ kid, alg, use, current }, …], current: { <alg>: <kid> } }`
 *   POST /keys/rotate   `{"alg":"ES256","retire_previous":false}` (both optional; alg default RS256)
 *                       → `{ kid, alg, retired: [<kid>, …], keys, current }`: the new key signs for alg from the next request
 */
import type Router from '@koa/router';
import type { z } from 'zod';
import { builtOnce, zod } from '../fixtures/built-once.ts';
import { FixtureError, validateEntry } from '../fixtures/load.ts';
import { answerOAuthError } from '../http/error-answers.ts';
import { jsonObjectBody } from './json-body.ts';
import { SIGNING_KEY_ALGORITHMS, type SigningKeyRotation } from './key-rotation.ts';

const rotationSchema = builtOnce(() => {
  const z = zod();
  return z.strictObject({
    alg: z.enum(SIGNING_KEY_ALGORITHMS).optional(),
    retire_previous: z.boolean().optional(),
  });
});

export function addKeyRotation(router: Router, keys: SigningKeyRotation): void {
  router.get('/keys', async (ctx) => {
    ctx.body = await keys.list();
  });

  router.post(
    '/keys/rotate',
    // No body at all (nor a type) is the defaults.
    jsonObjectBody({ limit: 4 * 1024, shape: '{ "alg"?: <alg>, "retire_previous"?: <boolean> }', optional: true }),
    async (ctx) => {
      let rotation: z.output<ReturnType<typeof rotationSchema>>;
      try {
        rotation = validateEntry(rotationSchema(), ctx.request.body, 'keys/rotate');
      } catch (error) {
        if (!(error instanceof FixtureError)) throw error;
        return answerOAuthError(ctx, 400, 'invalid_request', error.message);
      }
      ctx.body = await keys.rotate({ alg: rotation.alg, retirePrevious: rotation.retire_previous });
      return undefined;
    },
  );
}
