/**
 * Tokens a client presents to the token endpoint as RFC 8693 `subject_token` or `actor_token`,
 * checked for real: only tokens this issuer issued, still live, are accepted.
 * - access tokens: opaque ones by their stored record; JWT ones (RFC 9068) by signature with the
 *   issuer's own keys, `typ` at+jwt, `iss` and `exp`, then by their stored record, so a revoked JWT
 *   (or one whose grant was revoked) is refused like an opaque one;
 * - ID tokens: signature with the issuer's own keys, `iss`, `exp`, and `aud` naming the presenting
 *   client (an ID token is meant for its client only, OpenID Connect Core §2), for a known user.
 * Anything else is invalid_request (RFC 8693 §2.2.2).
 */
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { errors, type Provider } from 'oidc-provider';
import { ASYMMETRIC_ALGORITHMS, looksLikeJwt } from '../../jose/vocabulary.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import { engineVerificationKeys } from '../engine/index.ts';
import type { JwtAccessTokens } from '../extensions/jwt-access-tokens.ts';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
} as const;

/** The parts of a presented token the exchange decides on. */
export interface PresentedToken {
  /** The subject: a user's account id, or the client id of a client-credentials token. */
  sub: string;
  /** Whether `sub` is a fixture user (not a client acting for itself). */
  user: boolean;
  /** Its scopes (none for an ID token). */
  scopes: ReadonlySet<string>;
  /** `aud` of an access token for a resource server. */
  audience?: string;
  /** RFC 8693 §4.1 `act` the token already carries (a delegated token). */
  act?: Record<string, unknown>;
}

export interface PresentedTokenOptions {
  provider: Provider;
  users: UserDirectory;
  jwtAccessTokens: JwtAccessTokens;
}

export class PresentedTokens {
  readonly #provider: Provider;
  readonly #users: UserDirectory;
  readonly #jwtAccessTokens: JwtAccessTokens;
  /** The keys the issuer publishes now (they change with a key rotation). */
  readonly #ownKeys: ReturnType<typeof engineVerificationKeys>;

  constructor(options: PresentedTokenOptions) {
    this.#provider = options.provider;
    this.#users = options.users;
    this.#jwtAccessTokens = options.jwtAccessTokens;
    this.#ownKeys = engineVerificationKeys(options.provider);
  }

  /** `parameter` names the token in error descriptions (subject_token, actor_token). */
  async verify(parameter: string, value: string, type: string, clientId: string): Promise<PresentedToken> {
    const invalid = (why: string) => new errors.InvalidRequest(`${parameter} ${why}`);
    if (type === TOKEN_TYPES.accessToken) return this.#accessToken(value, invalid);
    if (type === TOKEN_TYPES.idToken) return this.#idToken(value, clientId, invalid);
    throw new errors.InvalidRequest(
      `${parameter}_type ${type} is not supported (supported: ${TOKEN_TYPES.accessToken} ${TOKEN_TYPES.idToken})`,
    );
  }

  async #accessToken(value: string, invalid: (why: string) => Error): Promise<PresentedToken> {
    const verified = looksLikeJwt(value) ? await this.#verifyOwnJwt(value, invalid, { typ: 'at+jwt' }) : undefined;
    const record = await this.#jwtAccessTokens.findLive(value, verified);
    if (!record) throw invalid('is not an access token issued by this issuer, or it has expired or was revoked');
    const accountId = 'accountId' in record ? record.accountId : undefined;
    const aud = record.aud as string | string[] | undefined;
    const act = (record.extra as { act?: unknown } | undefined)?.act;
    return {
      sub: accountId ?? record.clientId!,
      user: accountId !== undefined,
      scopes: record.scopes,
      audience: Array.isArray(aud) ? aud[0] : aud,
      act: isObject(act) ? act : undefined,
    };
  }

  async #idToken(value: string, clientId: string, invalid: (why: string) => Error): Promise<PresentedToken> {
    if (!looksLikeJwt(value)) throw invalid('is not a signed ID token (a JWS compact serialization)');
    let typ: unknown;
    try {
      ({ typ } = decodeProtectedHeader(value));
    } catch {
      throw invalid('is not a well-formed JWT');
    }
    // ID tokens are typed JWT or not at all; other typed JWTs (at+jwt, logout+jwt, …) are not ID tokens.
    if (typ !== undefined && String(typ).toUpperCase() !== 'JWT') throw invalid(`is not an ID token (typ ${String(typ).slice(0, 40)})`);
    const payload = await this.#verifyOwnJwt(value, invalid, { audience: clientId });
    const user = typeof payload.sub === 'string' ? await this.#users.findBySub(payload.sub) : undefined;
    if (!user) throw invalid('names no known user');
    return { sub: user.sub, user: true, scopes: new Set() };
  }

  async #verifyOwnJwt(value: string, invalid: (why: string) => Error, expect: { typ?: string; audience?: string }): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(value, this.#ownKeys, {
        issuer: this.#provider.issuer,
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        requiredClaims: ['exp', 'sub'],
        ...expect,
      });
      return payload;
    } catch (error) {
      throw invalid(`is not valid: ${describeJoseError(error)}`);
    }
  }
}

function describeJoseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'not signed by this issuer';
  if (code === 'ERR_JWT_EXPIRED') return 'expired';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const claim = (error as { claim?: string }).claim;
    return claim === 'aud' ? 'not issued to this client (aud)' : `wrong or missing ${claim ?? 'claim'}`;
  }
  return 'malformed';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
