/**
 * Access-token validation for the mock APIs: JWT access tokens (RFC 9068) against the issuer's
 * JWKS, opaque ones through introspection (RFC 7662), both remembered in a verified-token cache
 * keyed by the exact token string, and both refused on the first use after their revocation,
 * cache or not (see liveness.ts for when the issuer's store is asked).
 */
import { hash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { ASYMMETRIC_ALGORITHMS, looksLikeJwt } from '../../jose/vocabulary.ts';
import { invalidToken } from './challenges.ts';
import type { VerifiedAccessToken } from './verified-access-token.ts';

export type { VerifiedAccessToken };

import { ExpiringCache } from './expiring-cache.ts';
import { type IntrospectionSettings, introspect } from './introspection.ts';

/** Whether the issuer that issued a token still considers it live (not revoked, grant still there). */
export interface TokenLiveness {
  /**
   * The issuer's removal counter, or undefined when this process cannot know (a shared store). A
   * token found live under stamp n needs no new check while the stamp is still n and it has not expired.
   */
  stamp(issuer: string): number | undefined;
  /** Where the issuer keeps the token's record; computed once per token and cached with it. */
  recordId(token: string, format: 'jwt' | 'opaque'): string;
  /** Until when (epoch seconds) the token stays live unless something is removed; undefined: not live. */
  liveUntil(recordId: string, token: VerifiedAccessToken): Promise<number | undefined>;
}

export interface AccessTokenSettings {
  /** Accepted `iss` values: the issuers of the testbed that serve this resource (they share one key set). */
  issuers: readonly string[];
  /** Where the issuers' JWKS is fetched (over HTTP; refetched once on an unknown `kid`). */
  jwksUri: string;
  /** Expected `aud`: the resource's audience. */
  audience: string;
  /** JWS algorithms accepted for JWT access tokens; asymmetric only. */
  algorithms: readonly string[];
  /** Seconds of leeway on `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** Introspection for opaque tokens (at the first issuer); without it opaque tokens are refused. */
  introspection?: IntrospectionSettings;
  liveness?: TokenLiveness;
  /** Bound of the verified-token cache. */
  cacheSize: number;
  /**
   * Issuers made while the testbed runs (conformance scenario runs), each with keys of its own: a
   * JWT whose `iss` is none of `issuers` is trusted when this knows it, checked against its JWKS.
   */
  issuerMadeLater?: (iss: string) => { jwksUri: string } | undefined;
}

/** A cache entry: the validated token, its record id, the stamp under which it was last found live, and until when (ms). */
interface Verified {
  token: VerifiedAccessToken;
  recordId: string | undefined;
  liveStamp: number | undefined;
  liveUntil: number;
}

export class AccessTokenVerifier {
  readonly #settings: AccessTokenSettings;
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;
  readonly #laterJwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  readonly #verified: ExpiringCache<Verified>;
  /** RFC 9068 §4: what jose checks of a JWT access token besides its signature. */
  readonly #jwtChecks: JWTVerifyOptions;

  constructor(settings: AccessTokenSettings) {
    const weak = settings.algorithms.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
    if (weak.length > 0) throw new Error(`access token algorithms must be asymmetric JWS algorithms; remove ${weak.join(', ')}`);
    this.#settings = settings;
    this.#jwks = createRemoteJWKSet(new URL(settings.jwksUri));
    this.#verified = new ExpiringCache(settings.cacheSize);
    const { issuers, audience, algorithms, clockTolerance } = settings;
    this.#jwtChecks = {
      issuer: [...issuers],
      audience,
      algorithms: [...algorithms],
      typ: 'at+jwt',
      clockTolerance,
      requiredClaims: ['exp', 'iat'],
    };
  }

  /** The validated token, or a TokenError (invalid_token) saying what is wrong with it. */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const { liveness } = this.#settings;
    const cached = this.#verified.get(token);
    if (cached?.expired) throw invalidToken('access token expired');
    let entry = cached?.value;
    if (!entry) {
      entry = await this.#validate(token);
      const { format, exp } = entry.token;
      this.#verified.set(token, entry, format === 'jwt' ? (exp + this.#settings.clockTolerance) * 1000 : exp * 1000);
    }
    if (!liveness) return entry.token;
    const { issuer } = entry.token;
    const stamp = liveness.stamp(issuer);
    if (stamp !== undefined && stamp === entry.liveStamp && Date.now() < entry.liveUntil) return entry.token;
    const until = await liveness.liveUntil(entry.recordId!, entry.token);
    if (until === undefined) {
      this.#verified.delete(token);
      throw invalidToken('access token has been revoked (or was never issued by this issuer)');
    }
    entry.liveStamp = stamp;
    entry.liveUntil = until * 1000;
    return entry.token;
  }

  /** The issuer made later that `token` names (its `iss`, not yet verified), when it is one. */
  #issuerMadeLater(token: string): { iss: string; jwksUri: string } | undefined {
    const { issuerMadeLater, issuers } = this.#settings;
    if (!issuerMadeLater) return undefined;
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    if (typeof iss !== 'string' || issuers.includes(iss)) return undefined;
    const known = issuerMadeLater(iss);
    return known ? { iss, jwksUri: known.jwksUri } : undefined;
  }

  /** One remote JWKS per issuer made later (jose caches and refetches it on an unknown kid). */
  #jwksAt(uri: string): ReturnType<typeof createRemoteJWKSet> {
    let jwks = this.#laterJwks.get(uri);
    if (!jwks) {
      if (this.#laterJwks.size >= 1000) this.#laterJwks.delete(this.#laterJwks.keys().next().value!);
      jwks = createRemoteJWKSet(new URL(uri));
      this.#laterJwks.set(uri, jwks);
    }
    return jwks;
  }

  /** A JWT verified, an opaque token introspected: a new cache entry. */
  #validate(token: string): Promise<Verified> {
    return looksLikeJwt(token) ? this.#verifyJwt(token) : this.#introspect(token);
  }

  /** The cache entry of a token just validated: its liveness is still to be checked (introspection said active, not until when its grant lasts). */
  #newEntry(token: string, verified: VerifiedAccessToken): Verified {
    return { token: verified, recordId: this.#settings.liveness?.recordId(token, verified.format), liveStamp: undefined, liveUntil: 0 };
  }

  async #verifyJwt(token: string): Promise<Verified> {
    const { clockTolerance } = this.#settings;
    let payload: JWTPayload;
    try {
      const later = this.#issuerMadeLater(token);
      ({ payload } = later
        ? await jwtVerify(token, this.#jwksAt(later.jwksUri), { ...this.#jwtChecks, issuer: later.iss })
        : await jwtVerify(token, this.#jwks, this.#jwtChecks));
    } catch (error) {
      throw invalidToken(describeJoseFailure(error, token, this.#settings));
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > now + clockTolerance)
      throw invalidToken('access token is issued in the future (iat)');
    return this.#newEntry(token, {
      format: 'jwt',
      sub: typeof payload.sub === 'string' ? payload.sub : undefined,
      client_id: typeof payload.client_id === 'string' ? payload.client_id : undefined,
      tokenId: typeof payload.jti === 'string' ? payload.jti : tokenHash(token),
      scopes: scopeSet(payload.scope),
      exp: payload.exp!,
      jkt: confirmationThumbprint(payload.cnf),
      issuer: payload.iss!,
    });
  }

  async #introspect(token: string): Promise<Verified> {
    const {
      introspection,
      issuers: [issuer],
      audience,
    } = this.#settings;
    if (!introspection) throw invalidToken('access token is not a JWT and this API accepts JWT access tokens only');
    const result = await introspect(introspection, token);
    if (!result.active) throw invalidToken('access token is not active (expired, revoked or unknown to the issuer)');
    if (result.iss !== undefined && result.iss !== issuer) throw invalidToken(`access token issuer is not ${issuer}`);
    const audiences = ([] as unknown[]).concat(result.aud ?? []);
    if (!audiences.includes(audience))
      throw invalidToken(`access token audience is not this API (expected ${audience}, got ${audiences.join(' ') || 'none'})`);
    const now = Math.floor(Date.now() / 1000);
    // RFC 7662 makes exp optional; without it the result is trusted for a minute at most.
    const exp = typeof result.exp === 'number' ? result.exp : now + 60;
    return this.#newEntry(token, {
      format: 'opaque',
      sub: typeof result.sub === 'string' ? result.sub : undefined,
      client_id: typeof result.client_id === 'string' ? result.client_id : undefined,
      tokenId: tokenHash(token),
      scopes: scopeSet(result.scope),
      exp,
      jkt: confirmationThumbprint(result.cnf),
      issuer,
    });
  }
}

function describeJoseFailure(error: unknown, token: string, settings: AccessTokenSettings): string {
  if (error instanceof errors.JWTExpired) return 'access token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = error;
    if (reason === 'missing') return `access token has no ${claim} claim`;
    if (claim === 'iss') return `access token issuer is not ${settings.issuers.join(' or ')}`;
    if (claim === 'aud') return `access token audience is not this API (expected ${settings.audience}, got ${audienceOf(token)})`;
    if (claim === 'nbf') return 'access token is not yet valid (nbf)';
    if (claim === 'typ') return 'access token typ is not at+jwt (RFC 9068)';
    return `access token ${claim} claim is invalid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'access token signature verification failed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key in the issuer JWKS matches the access token (kid, alg)';
  if (error instanceof errors.JOSEAlgNotAllowed)
    return `access token alg ${headerAlgorithm(token)} is not accepted (accepted: ${settings.algorithms.join(' ')})`;
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'access token is not a well-formed JWT';
  throw error; // JWKS unreachable and the like: a server problem, not the client's
}

function headerAlgorithm(token: string): string {
  try {
    return String(decodeProtectedHeader(token).alg).slice(0, 20);
  } catch {
    return 'none';
  }
}

function audienceOf(token: string): string {
  try {
    return (
      ([] as unknown[])
        .concat(decodeJwt(token).aud ?? [])
        .map(String)
        .join(' ') || 'none'
    );
  } catch {
    return 'none';
  }
}

function scopeSet(scope: unknown): Set<string> {
  return new Set(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);
}

function confirmationThumbprint(cnf: unknown): string | undefined {
  const jkt = (cnf as { jkt?: unknown } | undefined)?.jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/** A log-safe handle for a token: 16 characters of its SHA-256. */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'base64url').slice(0, 16);
}
