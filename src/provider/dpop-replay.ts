/**
 * RFC 9449 §5 and §11.1: a token request whose DPoP proof was already used has an invalid proof,
 * answered `invalid_dpop_proof`. oidc-provider 9 answers `invalid_grant` ("DPoP proof JWT Replay
 * detected" in its error detail); this corrects the code on the way out, for that case only.
 */
import type { EventEmitter } from 'node:events';
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';

const REPLAY_DETAIL = 'DPoP proof JWT Replay detected';

export function answerDpopReplayAsInvalidProof(provider: Provider): Middleware {
  const replayed = new WeakSet<object>();
  (provider as unknown as EventEmitter).on('grant.error', (ctx: object, error: Error & { error_detail?: string }) => {
    if ((error.error_detail ?? error.message) === REPLAY_DETAIL) replayed.add(ctx);
  });
  return async function dpopReplayIsInvalidProof(ctx, next) {
    await next();
    if (!replayed.has(ctx)) return;
    ctx.status = 400;
    ctx.body = { error: 'invalid_dpop_proof', error_description: 'DPoP proof was already used (replay)' };
  };
}
