/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens, and their liveness for
 * the mock APIs and token exchange, with nothing stored when a JWT is issued.
 *
 * oidc-provider does not store JWT access tokens, so its introspection and revocation endpoints
 * answer `unsupported_token_type` for them. The testbed gives a JWT an opaque-format record under a
 * handle (the SHA-256 of the JWT) in the AccessToken or ClientCredentials model when one of those
 * endpoints (or token exchange) first needs it, and requests to the two endpoints that carry a JWT
 * have the token replaced by its handle before oidc-provider's own pipeline runs, so client
 * authentication, policies, grant checks, `revokeByGrantId` and session binding all apply unchanged.
 *
 * The record is made from the JWT's verified claims: oidc-provider's JWT format writes each field of
 * the model that a claim can carry (`lib/models/formats/jwt.js`). The rest travels in the `jti`
 * (RFC 9068 §2.2 leaves it opaque), set by `customizeJwtAccessToken` (jwt-state.ts):
 *
 * - A client-credentials JWT (ClientCredentials) has nothing else: its `jti` is the engine's, with
 *   the prefix `cc-`.
 * - A user's JWT (AccessToken: code, refresh, device, CIBA, token exchange, password grant) belongs
 *   to a grant and a session, and its account may differ from its `sub` (pairwise): its `jti` is
 *   that state, sealed (AES-256-GCM under a key derived from the issuer's cookie keys, so every
 *   replica can open it), with the time it was issued.
 *
 * Revoking a JWT stores a revocation mark under its handle until it expires. A user's JWT also dies
 * with its grant: when the grant is gone, or when oidc-provider revoked the grant's tokens while
 * keeping the grant (access-token revocation, RFC 7009 §2.1) — `withGrantRevocationMarks` then
 * stores the moment, and JWTs of that grant issued before it are refused.
 */
import { type JWTPayload, jwtVerify } from 'jose';
import type { Middleware } from 'koa';
import type { Adapter, AdapterPayload, Provider } from 'oidc-provider';
import { readFormParameters, replaceFormParameters } from '../../http/form-body.ts';
import { looksLikeJwt } from '../../jose/vocabulary.ts';
import { GRANT_REVOCATION_MARK_MODEL, type LocalRevisions, REVOCATION_MARK_MODEL, type Store } from '../../store/store.ts';
import { engineVerificationKeys } from '../engine/index.ts';
import { jwtAccessTokenHandle, recordFromClaims, unverifiedJti } from './jwt-records.ts';
import { isClientCredentialsJti, type JwtStateKey, openJwtState } from './jwt-state.ts';

export type StructuredToken = InstanceType<Provider['AccessToken']> | InstanceType<Provider['ClientCredentials']>;

export interface JwtAccessTokenOptions {
  provider: Provider;
  /** The issuer's store (its namespace): revocation marks live there. */
  store: Store;
  /** The key `customizeJwtAccessToken` sealed users' JWT state with. */
  stateKey: JwtStateKey;
}

/** What a token's liveness depends on besides its own expiry: a stored record's or a user JWT state's fields. */
interface GrantBinding {
  issuedAt?: number;
  grantId?: string;
  sessionUid?: string;
  expiresWithSession?: boolean;
  accountId?: string;
}

/** What a grant says of its tokens' liveness: until when (epoch seconds), and when its tokens were last revoked (epoch ms). */
interface GrantStanding {
  until: number;
  tokensRevokedAt: number | undefined;
}

/** Grants whose standing is kept at once (the tokens of more grants are checked against the store each time). */
const MAX_GRANT_STANDINGS = 10_000;

/** One issuer's JWT access-token records. */
export class JwtAccessTokens {
  readonly #provider: Provider;
  readonly #revocations: Adapter;
  readonly #grantRevocations: Adapter;
  /** The keys the issuer publishes now (they change with a key rotation). */
  readonly #ownKeys: ReturnType<typeof engineVerificationKeys>;
  readonly #stateKey: JwtStateKey;
  readonly #localRevisions: LocalRevisions | undefined;
  /** Grant standings read while `LocalRevisions.removals` was `#standingsAt`. */
  readonly #standings = new Map<string, GrantStanding>();
  #standingsAt = -1;

  constructor(options: JwtAccessTokenOptions) {
    this.#provider = options.provider;
    this.#revocations = options.store.adapterFor(REVOCATION_MARK_MODEL);
    this.#grantRevocations = options.store.adapterFor(GRANT_REVOCATION_MARK_MODEL);
    this.#ownKeys = engineVerificationKeys(options.provider);
    this.#stateKey = options.stateKey;
    this.#localRevisions = options.store.localRevisions;
  }

  /**
   * Introspection and revocation middleware: a `token` that is a JWT is replaced by its handle
   * before oidc-provider's own pipeline reads the body (the JWT's record made first); a JWT the
   * engine revoked gets its revocation mark, so its record is never made again.
   */
  resolveTokenParameter(): Middleware {
    return async (ctx, next) => {
      if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return next();
      const params = await readFormParameters(ctx);
      if (!params) return undefined;
      const tokens = params.getAll('token');
      const [token] = tokens;
      if (tokens.length !== 1 || !looksLikeJwt(token)) return next(); // duplicates are left for the engine to refuse
      const handle = jwtAccessTokenHandle(token);
      params.set('token', handle);
      replaceFormParameters(ctx, params);
      const made = await this.#makeRecord(token, handle);
      await next();
      if (made && ctx.status === 200 && !(await made.model.adapter.find(handle))) {
        await this.#revocations.upsert(handle, { exp: made.exp } as AdapterPayload, secondsUntil(made.exp));
      }
      return undefined;
    };
  }

  /**
   * The live record of an access token this issuer issued: an opaque token by its value, a JWT by
   * its handle (its record made from its claims). Undefined when it is not live: unknown, expired,
   * revoked, or its grant gone. `verified`: the JWT's claims, when the caller has verified them.
   */
  async findLive(value: string, verified?: JWTPayload): Promise<StructuredToken | undefined> {
    let id = value;
    if (looksLikeJwt(value)) {
      id = jwtAccessTokenHandle(value);
      await this.#makeRecord(value, id, verified);
    }
    const { AccessToken, ClientCredentials } = this.#provider;
    const token: StructuredToken | undefined = (await AccessToken.find(id)) ?? (await ClientCredentials.find(id));
    if (!token?.isValid) return undefined;
    // The engine's find checked the session binding; the grant is checked as for the mock APIs.
    const grantId = 'grantId' in token ? token.grantId : undefined;
    return (await this.#boundLiveUntil({ grantId }, token.clientId, token.exp ?? Infinity)) === undefined ? undefined : token;
  }

  /**
   * For the mock APIs, which verified the token themselves: until when (epoch seconds) it stays
   * live if nothing is removed from the store (the earliest of its own, its grant's and — when it
   * expires with the session — its session's expiry), or undefined when it is not live now.
   * `recordId` is an opaque token's value or a JWT's handle. Reads the stored payloads, as the
   * engine's `AccessToken.find` + `Grant.find` would, without building its models.
   */
  async liveUntil(
    recordId: string,
    verified: { format: 'jwt' | 'opaque'; tokenId: string; exp: number; client_id?: string },
  ): Promise<number | undefined> {
    if (verified.format === 'jwt') {
      const state = await this.#unrevokedState(verified.tokenId, recordId);
      return state ? this.#boundLiveUntil(state, verified.client_id, verified.exp) : undefined;
    }
    const { AccessToken, ClientCredentials } = this.#provider;
    const record = (await AccessToken.adapter.find(recordId)) ?? (await ClientCredentials.adapter.find(recordId));
    if (!record || record.consumed || !live(record.exp)) return undefined;
    return this.#boundLiveUntil(record, record.clientId, record.exp!);
  }

  /**
   * oidc-provider's rules on payloads: the grant must exist for the same client (and, for a user's
   * JWT, must not have had its tokens revoked since it was issued); a session-bound token's session
   * must hold that grant for the same account (`checkSessionBinding`).
   */
  async #boundLiveUntil(binding: GrantBinding, clientId: string | undefined, exp: number): Promise<number | undefined> {
    if (!binding.grantId) return exp;
    const standing = await this.#grantStanding(binding.grantId, binding, clientId);
    if (!standing) return undefined;
    if (revokedWithGrant(binding.issuedAt, standing.tokensRevokedAt)) return undefined;
    return Math.min(exp, standing.until);
  }

  /**
   * The grant's standing for one client (and session binding), or undefined when its tokens are not
   * live. On a process-local store it is kept while nothing is removed (`LocalRevisions.removals`,
   * which also moves on every session write) and it has not expired, so the many tokens of one
   * grant (each refresh makes one) read the grant, its revocation mark and its session once.
   */
  async #grantStanding(grantId: string, binding: GrantBinding, clientId: string | undefined): Promise<GrantStanding | undefined> {
    const revisions = this.#localRevisions;
    if (!revisions) return this.#readGrantStanding(grantId, binding, clientId);
    const key = binding.expiresWithSession ? `${grantId} ${clientId} ${binding.sessionUid} ${binding.accountId}` : `${grantId} ${clientId}`;
    const removals = revisions.removals;
    if (this.#standingsAt !== removals) {
      this.#standings.clear();
      this.#standingsAt = removals;
    }
    const known = this.#standings.get(key);
    if (known && live(known.until)) return known;
    const standing = await this.#readGrantStanding(grantId, binding, clientId);
    // Kept only if nothing was removed while the store was read, and within a bound.
    if (standing && revisions.removals === removals && this.#standings.size < MAX_GRANT_STANDINGS) this.#standings.set(key, standing);
    return standing;
  }

  async #readGrantStanding(grantId: string, binding: GrantBinding, clientId: string | undefined): Promise<GrantStanding | undefined> {
    const { Grant, Session } = this.#provider;
    const grant = await Grant.adapter.find(grantId);
    if (!grant || !live(grant.exp) || grant.clientId !== clientId) return undefined;
    let until = grant.exp ?? Infinity;
    if (binding.expiresWithSession) {
      const session = binding.sessionUid ? await Session.adapter.findByUid(binding.sessionUid) : undefined;
      const authorization = (session?.authorizations as Record<string, { grantId?: string }> | undefined)?.[clientId!];
      if (!session || !live(session.exp) || session.accountId !== binding.accountId || authorization?.grantId !== grantId) return undefined;
      until = Math.min(until, session.exp ?? Infinity);
    }
    return { until, tokensRevokedAt: await this.#tokensRevokedAt(grantId) };
  }

  /**
   * Makes the record of a JWT access token from its claims (and a user's JWT's sealed state), unless
   * it exists, was revoked, or the JWT is not one this issuer signed and still valid. Returns its
   * model and expiry when the record is there afterwards.
   */
  async #makeRecord(jwt: string, handle: string, verified?: JWTPayload): Promise<MadeRecord | undefined> {
    const jti = unverifiedJti(jwt);
    const clientCredentials = isClientCredentialsJti(jti);
    const model = clientCredentials ? this.#provider.ClientCredentials : this.#provider.AccessToken;
    const existing = await model.adapter.find(handle);
    if (existing) return { model, exp: Number(existing.exp) };
    const state = await this.#unrevokedState(jti, handle);
    if (!state || (state.grantId && revokedWithGrant(state.issuedAt, await this.#tokensRevokedAt(state.grantId)))) return undefined;
    let claims = verified;
    if (!claims) {
      try {
        ({ payload: claims } = await jwtVerify(jwt, this.#ownKeys, {
          issuer: this.#provider.issuer,
          typ: 'at+jwt',
          requiredClaims: ['exp', 'iat', 'client_id'],
        }));
      } catch {
        return undefined; // not ours, or expired: the engine then finds nothing
      }
    }
    if (claims.jti !== jti) return undefined;
    const { issuedAt: _issuedAt, ...stateFields } = state;
    const record = recordFromClaims(clientCredentials ? 'ClientCredentials' : 'AccessToken', claims, handle, stateFields);
    await model.adapter.upsert(handle, record, secondsUntil(record.exp!));
    return { model, exp: record.exp! };
  }

  /** When the grant's access tokens were last revoked while it was kept (epoch ms), if ever. */
  async #tokensRevokedAt(grantId: string): Promise<number | undefined> {
    const mark = await this.#grantRevocations.find(grantId);
    return mark ? Number(mark.revokedAt) : undefined;
  }

  /**
   * A JWT's state from its `jti` (nothing for a client-credentials JWT), unless the JWT was revoked
   * (a mark under its handle) or its `jti` is not one this issuer made.
   */
  async #unrevokedState(jti: unknown, handle: string): Promise<(GrantBinding & Record<string, unknown>) | undefined> {
    const state = isClientCredentialsJti(jti) ? {} : openJwtState(this.#stateKey, jti);
    if (!state || (await this.#revocations.find(handle))) return undefined;
    return state;
  }
}

interface MadeRecord {
  model: Provider['AccessToken'] | Provider['ClientCredentials'];
  exp: number;
}

/** A user's JWT issued (epoch ms) at or before its grant's tokens were revoked is revoked with them. */
function revokedWithGrant(issuedAt: number | undefined, tokensRevokedAt: number | undefined): boolean {
  return issuedAt !== undefined && tokensRevokedAt !== undefined && issuedAt <= tokensRevokedAt;
}

function live(exp: unknown): boolean {
  return typeof exp !== 'number' || exp > Math.floor(Date.now() / 1000);
}

function secondsUntil(epochSeconds: number): number {
  return Math.max(1, epochSeconds - Math.floor(Date.now() / 1000));
}
