/**
 * Errors of a protected resource and their HTTP form: RFC 6750 §3 (Bearer) and RFC 9449 §7
 * (DPoP). Every error is one `WWW-Authenticate` challenge plus a JSON body with the same `error`
 * and `error_description`.
 *
 * With no credentials at all the answer carries no error code (RFC 6750 §3.1) and offers both
 * schemes in ONE header field, Bearer first (RFC 9110 §11.6.1 allows a comma-separated list of
 * challenges; oauth4webapi's parser and naive `key="value"` scanners both read it):
 *
 *   WWW-Authenticate: Bearer realm="profile-api", DPoP realm="profile-api", algs="ES256 Ed25519 EdDSA"
 */
import type { Context } from 'koa';
import type { VerifiedAccessToken } from './verified-access-token.ts';

export type AuthScheme = 'Bearer' | 'DPoP';

export type TokenErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

const STATUS: Record<TokenErrorCode, 400 | 401 | 403> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
};

/** A rejected request; `code` undefined means "no credentials" (a bare challenge). */
export class TokenError extends Error {
  readonly code: TokenErrorCode | undefined;
  readonly status: 400 | 401 | 403;
  readonly scheme: AuthScheme;
  /** RFC 6750 §3 `scope`: the scope the route needs (insufficient_scope only). */
  readonly scope?: string;

  constructor(code: TokenErrorCode | undefined, description: string, scheme: AuthScheme = 'Bearer', scope?: string) {
    super(description);
    this.name = 'TokenError';
    this.code = code;
    this.status = code ? STATUS[code] : 401;
    this.scheme = code === 'invalid_dpop_proof' || code === 'use_dpop_nonce' ? 'DPoP' : scheme;
    this.scope = scope;
  }
}

export const noCredentials = () =>
  new TokenError(undefined, 'no access token in the request: send Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)');
export const invalidRequest = (description: string) => new TokenError('invalid_request', description);
export const invalidToken = (description: string, scheme: AuthScheme = 'Bearer') => new TokenError('invalid_token', description, scheme);
export const invalidDpopProof = (description: string) => new TokenError('invalid_dpop_proof', description);
export const insufficientScope = (scope: string, description: string, scheme: AuthScheme) =>
  new TokenError('insufficient_scope', description, scheme, scope);

/**
 * One challenge: `Scheme k="v", …` with every value a quoted-string (RFC 9110 §5.6.4: `"` and `\`
 * escaped). `error_description` is first reduced to the characters RFC 6750 §3 allows in it
 * (%x20-21 / %x23-5B / %x5D-7E), so it never needs escaping at all.
 */
export function formatChallenge(scheme: AuthScheme, parameters: Record<string, string | undefined>): string {
  const pairs = Object.entries(parameters)
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([name, value]) => `${name}="${quote(name === 'error_description' ? describable(value) : value)}"`);
  return pairs.length > 0 ? `${scheme} ${pairs.join(', ')}` : scheme;
}

function quote(value: string): string {
  return value.replace(/[\\"]/g, (character) => `\\${character}`);
}

/** RFC 6750 §3: quotes become apostrophes, backslashes slashes, anything else outside the set a space. */
export function describable(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7E]/g, ' ');
}

export interface ChallengeSettings {
  /** `realm` of every challenge: the API's name. */
  realm: string;
  /** `algs` of DPoP challenges: the DPoP proof algorithms the API accepts. */
  dpopAlgorithms: readonly string[];
}

export function challengeFor(error: TokenError, settings: ChallengeSettings): string {
  const { realm } = settings;
  const algs = settings.dpopAlgorithms.join(' ');
  if (!error.code) {
    return `${formatChallenge('Bearer', { realm })}, ${formatChallenge('DPoP', { realm, algs })}`;
  }
  return formatChallenge(error.scheme, {
    realm,
    error: error.code,
    error_description: error.message,
    scope: error.scope,
    algs: error.scheme === 'DPoP' ? algs : undefined,
  });
}

/** Answers a request with a TokenError: its status, challenge and JSON body. */
export function renderTokenError(ctx: Context, error: TokenError, settings: ChallengeSettings): void {
  ctx.status = error.status;
  ctx.set('WWW-Authenticate', challengeFor(error, settings));
  ctx.set('Cache-Control', 'no-store');
  const description = describable(error.message);
  ctx.body = error.code
    ? { error: error.code, error_description: description, ...(error.scope ? { scope: error.scope } : {}) }
    : { error_description: description };
  (ctx.state as ApiState).rejection = error.code ?? 'no_credentials';
}

/** What the token-checking middleware leaves on `ctx.state` for routes and the call log. */
export interface ApiState {
  caller?: VerifiedAccessToken;
  scheme?: AuthScheme;
  rejection?: string;
}
