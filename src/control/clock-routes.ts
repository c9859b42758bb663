/**
 * `<issuer>/_testbed/clock` (src/control/clock.ts):
 *   GET                        → `{ offset_s, now: { iso, epoch } }` (the issuer's time; epoch in seconds, as in `iat`)
 *   PUT `{"offset_s": 300}`    → the same, with the new offset in force from the next request; 0 is real time
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { answerOAuthError } from '../http/error-answers.ts';
import { JSON_TYPES, parseBody } from '../http/request-body.ts';
import { type ClockReading, type IssuerClock, offsetOf, offsetProblem, readingAt } from './clock.ts';
import { settingsOf } from './settings.ts';

const SHAPE = 'send {"offset_s": <seconds>}';

export function addClock(router: Router, clock: IssuerClock): void {
  const parseJson = parseBody({ json: JSON_TYPES, limit: 1024 });

  router.get('/clock', (ctx) => {
    ctx.body = asJson(readingAt(offsetOf(settingsOf(ctx))));
  });

  router.put('/clock', async (ctx) => {
    const body = await readBody(ctx, parseJson);
    if (body === undefined) return;
    const unknown = Object.keys(body).filter((field) => field !== 'offset_s');
    if (unknown.length > 0) return answerOAuthError(ctx, 400, 'invalid_request', `unknown field ${unknown[0]}: ${SHAPE}`);
    if (!Object.hasOwn(body, 'offset_s')) return answerOAuthError(ctx, 400, 'invalid_request', `offset_s is required: ${SHAPE}`);
    const problem = offsetProblem(body.offset_s);
    if (problem) return answerOAuthError(ctx, 400, 'invalid_request', problem);
    ctx.body = asJson(await clock.set(body.offset_s as number));
  });
}

/** The JSON object of the request, or undefined when it answered a 400 naming what to send. */
async function readBody(ctx: Context, parseJson: ReturnType<typeof parseBody>): Promise<Record<string, unknown> | undefined> {
  if (!ctx.request.is(...JSON_TYPES)) {
    answerOAuthError(ctx, 400, 'invalid_request', `the body must be JSON (Content-Type: application/json): ${SHAPE}`);
    return undefined;
  }
  try {
    await parseJson(ctx, async () => {});
  } catch (error) {
    if ((error as { status?: number }).status !== 400) throw error;
    answerOAuthError(ctx, 400, 'invalid_request', `${(error as Error).message}: ${SHAPE}`);
    return undefined;
  }
  const body = ctx.request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    answerOAuthError(ctx, 400, 'invalid_request', `the body must be a JSON object: ${SHAPE}`);
    return undefined;
  }
  return body as Record<string, unknown>;
}

function asJson({ offsetS, now }: ClockReading) {
  return { offset_s: offsetS, now: { iso: now.toISOString(), epoch: Math.floor(now.getTime() / 1000) } };
}
