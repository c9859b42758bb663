/**
 * The issuer's signing keys at run time (under `<issuer>/_testbed`; src/control/key-rotation.ts):
 *   GET  /keys          → `{ keys: [{ kid, alg, use, current }, …], current: { <alg>: <kid> } }`
 *   POST /keys/rotate   `{"alg":"ES256","retire_previous":false}` (both optional; alg default RS256)
 *                       → `{ kid, alg, retired: [<kid>, …], keys, current }`: the new key signs for alg from the next request
 */
import type Router from '@koa/router';
import { z } from 'zod';
import { FixtureError, validateEntry } from '../fixtures/load.ts';
import { answerOAuthError } from '../http/error-answers.ts';
import { JSON_TYPES, parseBody } from '../http/request-body.ts';
import { SIGNING_KEY_ALGORITHMS, type SigningKeyRotation } from './key-rotation.ts';

const rotationSchema = z.strictObject({
  alg: z.enum(SIGNING_KEY_ALGORITHMS).optional(),
  retire_previous: z.boolean().optional(),
});

export function addKeyRotation(router: Router, keys: SigningKeyRotation): void {
  const readJson = parseBody({ json: JSON_TYPES, limit: 4 * 1024 });

  router.get('/keys', async (ctx) => {
    ctx.body = await keys.list();
  });

  router.post(
    '/keys/rotate',
    async (ctx, next) => {
      // No body at all (nor a type) is the defaults; a body is JSON.
      if (ctx.request.length === 0 && !ctx.request.type) {
        ctx.request.body = {};
        return next();
      }
      if (!ctx.request.is(...JSON_TYPES)) {
        return answerOAuthError(ctx, 400, 'invalid_request', 'the body must be a JSON object (Content-Type: application/json)');
      }
      return readJson(ctx, next);
    },
    async (ctx) => {
      let rotation: z.output<typeof rotationSchema>;
      try {
        rotation = validateEntry(rotationSchema, ctx.request.body, 'keys/rotate');
      } catch (error) {
        if (!(error instanceof FixtureError)) throw error;
        return answerOAuthError(ctx, 400, 'invalid_request', error.message);
      }
      ctx.body = await keys.rotate({ alg: rotation.alg, retirePrevious: rotation.retire_previous });
      return undefined;
    },
  );
}
