import { errors } from 'oidc-provider';

export const STORE_UNAVAILABLE_DESCRIPTION = 'the testbed cannot reach its store (Redis) right now; retry in a moment';

/**
 * The store did not answer (Redis down, failing over, or not reachable). An exposed oidc-provider
 * error, so the provider's own error handling answers `503 temporarily_unavailable` as JSON on API
 * endpoints, as its error page in browsers, and by redirect to the client from the authorization
 * endpoint (RFC 6749 §4.1.2.1 defines `temporarily_unavailable` for exactly that case); the
 * testbed's own routes map it the same way in `answerErrors()`.
 */
export class StoreUnavailableError extends errors.OIDCProviderError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(503, 'temporarily_unavailable', { detail, cause: options?.cause });
    this.name = 'StoreUnavailableError';
    this.error_description = STORE_UNAVAILABLE_DESCRIPTION;
    this.expose = true;
  }
}

/** Start-up could not reach the store; the message names the target without its password. */
export class StoreStartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreStartupError';
  }
}
