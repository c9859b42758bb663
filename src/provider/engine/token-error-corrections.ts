/**
 * Token-endpoint answers of oidc-provider 9 that differ from the RFCs, corrected on the way out,
 * for exactly those cases. The engine tells why a request failed in its `grant.error` event (the
 * error's description, or the detail it hides behind a generic one); a correction keys on it.
 */
import type { EventEmitter } from 'node:events';
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';

interface Correction {
  error: string;
  error_description: string;
}

const CORRECTIONS: ReadonlyMap<string, Correction> = new Map([
  // RFC 6749 §5.2: "The authenticated client is not authorized to use this authorization grant type."
  [
    'requested grant type is not allowed for this client',
    { error: 'unauthorized_client', error_description: 'this client is not registered for this grant type (grant_types)' },
  ],
  // RFC 9449 §5, §11.1: a proof already used is an invalid proof.
  ['DPoP proof JWT Replay detected', { error: 'invalid_dpop_proof', error_description: 'DPoP proof was already used (replay)' }],
  // RFC 9449 §5.2 (dpop_bound_access_tokens): a request missing a required proof (RFC 6749 §5.2).
  [
    'DPoP proof JWT not provided',
    {
      error: 'invalid_request',
      error_description: 'this client must send a DPoP proof with every token request (dpop_bound_access_tokens)',
    },
  ],
]);

export function correctTokenErrors(provider: Provider): Middleware {
  const corrected = new WeakMap<object, Correction>();
  (provider as unknown as EventEmitter).on(
    'grant.error',
    (ctx: object, error: Error & { error_detail?: string; error_description?: string }) => {
      const correction = CORRECTIONS.get(error.error_detail ?? '') ?? CORRECTIONS.get(error.error_description ?? '');
      if (correction) corrected.set(ctx, correction);
    },
  );
  return async function correctTokenError(ctx, next) {
    await next();
    const correction = corrected.get(ctx);
    if (!correction) return;
    ctx.status = 400;
    ctx.body = { ...correction };
  };
}
