/**
 * `<issuer>/_testbed/clock` (src/control/clock.ts):
 *   GET                        → `{ offset_s, now: { iso, epoch } }` (the issuer's time; epoch in seconds, as in `iat`)
 *   PUT `{"offset_s": 300}`    → the same, with the new offset in force from the next request; 0 is real time
 */
import type Router from '@koa/router';
import { answerOAuthError } from '../http/error-answers.ts';
import { type ClockReading, type IssuerClock, offsetOf, offsetProblem, readingAt } from './clock.ts';
import { jsonObjectBody } from './json-body.ts';
import { settingsOf } from './settings.ts';

const SHAPE = '{"offset_s": <seconds>}';

export function addClock(router: Router, clock: IssuerClock): void {
  router.get('/clock', (ctx) => {
    ctx.body = asJson(readingAt(offsetOf(settingsOf(ctx))));
  });

  router.put('/clock', jsonObjectBody({ limit: 1024, shape: SHAPE }), async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const unknown = Object.keys(body).filter((field) => field !== 'offset_s');
    if (unknown.length > 0) return answerOAuthError(ctx, 400, 'invalid_request', `unknown field ${unknown[0]}: send ${SHAPE}`);
    if (!Object.hasOwn(body, 'offset_s')) return answerOAuthError(ctx, 400, 'invalid_request', `offset_s is required: send ${SHAPE}`);
    const problem = offsetProblem(body.offset_s);
    if (problem) return answerOAuthError(ctx, 400, 'invalid_request', problem);
    ctx.body = asJson(await clock.set(body.offset_s as number));
  });
}

function asJson({ offsetS, now }: ClockReading) {
  return { offset_s: offsetS, now: { iso: now.toISOString(), epoch: Math.floor(now.getTime() / 1000) } };
}
