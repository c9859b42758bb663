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
  /** Accepted `iss` values: the issuers of the testbed that serve this resource. */
  issuers: readonly string[];
  /** Where each of `issuers` publishes its JWKS, fetched over HTTP (refetched on an unknown `kid`); each may rotate its keys. */
  jwksUris: ReadonlyMap<string, string>;
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
  /**
   * The revision of the signing keys of an issuer of the testbed (one of `issuers` or made later),
   * once it has caught up with a rotation on another replica; undefined for an issuer it does not
   * know. When it moves, the issuer's JWKS is fetched anew (a new key is known at once, whatever
   * jose's cooldown) and every verified token is verified again (a retired key's are refused).
   */
  keyRevision?: (iss: string) => Promise<string | undefined>;
}

/** How many issuers' JWKS (and key revisions) are kept. */
const MAX_KEY_SETS = 1000;

/** A cache entry: the validated token, its record id, the stamp under which it was last found live, and until when (ms). */
interface Verified {
  token: VerifiedAccessToken;
  recordId: string | undefined;
  liveStamp: number | undefined;
  liveUntil: number;
}

export class AccessTokenVerifier {
  readonly #settings: AccessTokenSettings;
  /** Remote JWKS by URI (jose caches each and refetches it on an unknown kid, at most every 30 s). */
  readonly #jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  /** The key revision of each issuer as this verifier last saw it. */
  readonly #keyRevisions = new Map<string, string>();
  readonly #verified: ExpiringCache<Verified>;
  /** RFC 9068 §4: what jose checks of a JWT access token besides its signature. */
  readonly #jwtChecks: JWTVerifyOptions;

  constructor(settings: AccessTokenSettings) {
    const weak = settings.algorithms.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
    if (weak.length > 0) throw new Error(`access token algorithms must be asymmetric JWS algorithms; remove ${weak.join(', ')}`);
    this.#settings = settings;
    const missing = settings.issuers.filter((issuer) => !settings.jwksUris.has(issuer));
    if (missing.length > 0) throw new Error(`no JWKS URI for ${missing.join(', ')}`);
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
    if (this.#settings.keyRevision && looksLikeJwt(token)) await this.#followKeyRotation(token);
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

  /**
   * When the keys of the token's issuer changed since this verifier last looked (a rotation, here
   * or on another replica): its JWKS is dropped, to be fetched anew, and so is every verified token.
   */
  async #followKeyRotation(token: string): Promise<void> {
    const iss = this.#verified.get(token)?.value.token.issuer ?? unverifiedIssuer(token);
    if (iss === undefined) return;
    const revision = await this.#settings.keyRevision!(iss);
    if (revision === undefined) return;
    const seen = this.#keyRevisions.get(iss);
    if (seen === revision) return;
    if (seen === undefined && this.#keyRevisions.size >= MAX_KEY_SETS) this.#keyRevisions.delete(this.#keyRevisions.keys().next().value!);
    this.#keyRevisions.set(iss, revision);
    if (seen === undefined) return; // first sight: its JWKS is fetched from now on
    const uri = this.#jwksUriOf(iss);
    if (uri) this.#jwks.delete(uri);
    this.#verified.clear();
  }

  /** Where the issuer `iss` (not yet verified) publishes its keys, when it is one this verifier trusts. */
  #jwksUriOf(iss: string): string | undefined {
    return this.#settings.jwksUris.get(iss) ?? this.#settings.issuerMadeLater?.(iss)?.jwksUri;
  }

  /** One remote JWKS per URI. */
  #jwksAt(uri: string): ReturnType<typeof createRemoteJWKSet> {
    let jwks = this.#jwks.get(uri);
    if (!jwks) {
      if (this.#jwks.size >= MAX_KEY_SETS) this.#jwks.delete(this.#jwks.keys().next().value!);
      jwks = createRemoteJWKSet(new URL(uri));
      this.#jwks.set(uri, jwks);
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
      const { issuers, jwksUris, issuerMadeLater } = this.#settings;
      const iss = unverifiedIssuer(token);
      const later = iss !== undefined && !issuers.includes(iss) ? issuerMadeLater?.(iss) : undefined;
      // A token of no issuer trusted is checked against the first one's keys (and refused for its iss, or its signature).
      ({ payload } = later
        ? await jwtVerify(token, this.#jwksAt(later.jwksUri), { ...this.#jwtChecks, issuer: iss })
        : await jwtVerify(
            token,
            this.#jwksAt(jwksUris.get(iss !== undefined && issuers.includes(iss) ? iss : issuers[0])!),
            this.#jwtChecks,
          ));
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

/** The `iss` a JWT names, before it is verified. */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
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
