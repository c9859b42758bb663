/**
 * Two DPoP answers of oidc-provider 9's token endpoint, corrected on the way out. It answers both
 * with `invalid_grant` and the generic "grant request is invalid", the reason hidden in its error
 * detail:
 * - a proof already used is an invalid proof: `invalid_dpop_proof` (RFC 9449 §5, §11.1);
 * - no proof from a client registered with `dpop_bound_access_tokens` (RFC 9449 §5.2) is a request
 *   missing a required parameter: `invalid_request` (RFC 6749 §5.2), saying what is missing.
 */
import type { EventEmitter } from 'node:events';
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';

const CORRECTIONS: ReadonlyMap<string, { error: string; error_description: string }> = new Map([
  ['DPoP proof JWT Replay detected', { error: 'invalid_dpop_proof', error_description: 'DPoP proof was already used (replay)' }],
  ['DPoP proof JWT not provided', { error: 'invalid_request', error_description: 'this client must send a DPoP proof with every token request (dpop_bound_access_tokens)' }],
]);

export function correctDpopTokenErrors(provider: Provider): Middleware {
  const corrected = new WeakMap<object, { error: string; error_description: string }>();
  (provider as unknown as EventEmitter).on('grant.error', (ctx: object, error: Error & { error_detail?: string }) => {
    const correction = CORRECTIONS.get(error.error_detail ?? error.message);
    if (correction) corrected.set(ctx, correction);
  });
  return async function correctDpopErrors(ctx, next) {
    await next();
    const correction = corrected.get(ctx);
    if (!correction) return;
    ctx.status = 400;
    ctx.body = { ...correction };
  };
}
