/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens, and their liveness for
 * the mock APIs and token exchange.
 *
 * oidc-provider does not store JWT access tokens, so its introspection and revocation endpoints
 * answer `unsupported_token_type` for them. The testbed gives a JWT an opaque-format record under a
 * handle (the SHA-256 of the JWT) in the AccessToken or ClientCredentials model when one of those
 * endpoints (or token exchange) first needs it, and requests to the two endpoints that carry a JWT
 * have the token replaced by its handle before oidc-provider's own pipeline runs, so client
 * authentication, policies, grant checks, `revokeByGrantId` and session binding all apply unchanged.
 *
 * The record is made from the JWT's verified claims (oidc-provider's JWT format writes each field
 * of the model that a claim can carry: `lib/models/formats/jwt.js`) plus, for a user's JWT, what no
 * claim carries. So nothing is stored per token beyond that:
 *
 * - A client-credentials JWT (ClientCredentials) belongs to no grant and every field of its record is
 *   a claim: nothing is stored when it is issued. Its `jti` starts with `cc-` (RFC 9068 §2.2 leaves
 *   `jti` opaque) to tell it apart. Revoking it leaves a revocation mark under its handle until it
 *   expires, so its record is never made again.
 * - A user's JWT (AccessToken: code, refresh, device, CIBA, token exchange, password grant) belongs
 *   to a grant that can be revoked under it (refresh-token reuse, logout) and has fields no claim
 *   carries (grant, session, account — `sub` may be pairwise): those alone are stored when it is
 *   issued, as its state (`JWT_ACCESS_TOKEN_STATE_MODEL`, indexed by grant so `revokeByGrantId`
 *   takes it too). Revoking the token removes its state.
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Middleware } from 'koa';
import type { Adapter, AdapterPayload, KoaContextWithOIDC, Provider } from 'oidc-provider';
import { readFormParameters, replaceFormParameters } from '../server/form-body.ts';
import { JWT_ACCESS_TOKEN_STATE_MODEL, REVOCATION_MARK_MODEL, type Store } from '../store/store.ts';
import { publicJwk } from './keys.ts';

export type StructuredToken = InstanceType<Provider['AccessToken']> | InstanceType<Provider['ClientCredentials']>;

/** The `jti` prefix of a client-credentials JWT access token (see the module comment). */
export const CLIENT_CREDENTIALS_JTI_PREFIX = 'cc-';

/** The fields of a user's access-token record that its JWT's claims do not carry (its stored state). */
const USER_STATE_FIELDS = ['accountId', 'grantId', 'gty', 'sessionUid', 'expiresWithSession', 'sid', 'claims'] as const;

/** The key under which a JWT access token's record is stored. */
export function jwtAccessTokenHandle(jwt: string): string {
  return createHash('sha256').update(jwt).digest('base64url');
}

export function looksLikeJwt(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value);
}

export function isClientCredentialsJti(jti: unknown): boolean {
  return typeof jti === 'string' && jti.startsWith(CLIENT_CREDENTIALS_JTI_PREFIX);
}

/** oidc-provider's `formats.customizers.jwt`: marks client-credentials JWTs by their `jti`. */
export function markClientCredentialsJwt(_ctx: unknown, token: { kind: string }, jwt: { payload: Record<string, unknown> }): void {
  if (token.kind === 'ClientCredentials') jwt.payload.jti = `${CLIENT_CREDENTIALS_JTI_PREFIX}${String(jwt.payload.jti)}`;
}

export interface JwtAccessTokenOptions {
  provider: Provider;
  /** The issuer's store (its namespace): user JWTs' state and revocation marks live there. */
  store: Store;
  /** The issuer's private signing keys; only their public parts are used. */
  signingKeys: readonly JWK[];
}

/** What a token's liveness depends on besides its own expiry: a stored record's or a user JWT state's fields. */
interface GrantBinding {
  grantId?: string;
  sessionUid?: string;
  expiresWithSession?: boolean;
  accountId?: string;
}

/** One issuer's JWT access-token records. */
export class JwtAccessTokens {
  readonly #provider: Provider;
  readonly #states: Adapter;
  readonly #revocations: Adapter;
  readonly #ownKeys: ReturnType<typeof createLocalJWKSet>;

  constructor(options: JwtAccessTokenOptions) {
    this.#provider = options.provider;
    this.#states = options.store.adapterFor(JWT_ACCESS_TOKEN_STATE_MODEL);
    this.#revocations = options.store.adapterFor(REVOCATION_MARK_MODEL);
    this.#ownKeys = createLocalJWKSet({ keys: options.signingKeys.map(publicJwk) });
  }

  /** Token endpoint middleware: after an answer that carries a user's JWT access token, store its state. */
  recordIssued(): Middleware {
    const states = this.#states;
    return async function recordIssuedJwtAccessToken(ctx, next) {
      await next();
      if (ctx.status !== 200) return;
      const body = ctx.body as { access_token?: unknown } | undefined;
      if (!looksLikeJwt(body?.access_token)) return;
      const token = (ctx as unknown as KoaContextWithOIDC).oidc.entities.AccessToken;
      if (token?.format !== 'jwt') return;
      const state: Record<string, unknown> = {};
      for (const field of USER_STATE_FIELDS) if (token[field] !== undefined) state[field] = token[field];
      // oidc-provider's JWT format computes exp into the JWT only, not onto the model.
      const exp = Number(unverifiedClaims(body.access_token)?.exp);
      await states.upsert(jwtAccessTokenHandle(body.access_token), state as AdapterPayload, secondsUntil(exp));
    };
  }

  /**
   * Introspection and revocation middleware: a `token` that is a JWT is replaced by its handle
   * before oidc-provider's own pipeline reads the body (the JWT's record made first); after the
   * engine revoked a JWT, its record is not made again.
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
      if (made && ctx.status === 200 && !(await made.model.adapter.find(handle))) await this.#forget(handle, made);
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
    const provider = this.#provider;
    const token: StructuredToken | undefined = (await provider.AccessToken.find(id)) ?? (await provider.ClientCredentials.find(id));
    if (!token?.isValid) return undefined;
    const grantId = 'grantId' in token ? token.grantId : undefined;
    if (!grantId) return token;
    const grant = await provider.Grant.find(grantId);
    return grant !== undefined && grant.clientId === token.clientId ? token : undefined;
  }

  /**
   * For the mock APIs, which verified the token themselves: until when (epoch seconds) it stays
   * live if nothing is removed from the store (the earliest of its own, its grant's and — when it
   * expires with the session — its session's expiry), or undefined when it is not live now.
   * `recordId` is an opaque token's value or a JWT's handle. Reads the stored payloads, as the
   * engine's `AccessToken.find` + `Grant.find` would, without building its models.
   */
  async liveUntil(recordId: string, verified: { format: 'jwt' | 'opaque'; tokenId: string; exp: number; client_id?: string }): Promise<number | undefined> {
    if (verified.format === 'jwt') {
      if (isClientCredentialsJti(verified.tokenId)) return (await this.#revocations.find(recordId)) ? undefined : verified.exp;
      const state = await this.#states.find(recordId);
      return state ? this.#boundLiveUntil(state, verified.client_id, verified.exp) : undefined;
    }
    const { AccessToken, ClientCredentials } = this.#provider;
    const record = (await AccessToken.adapter.find(recordId)) ?? (await ClientCredentials.adapter.find(recordId));
    if (!record || record.consumed || !live(record.exp)) return undefined;
    return this.#boundLiveUntil(record, record.clientId, record.exp!);
  }

  /** oidc-provider's rules on payloads: the grant must exist for the same client; a session-bound token's session must hold that grant for the same account (`checkSessionBinding`). */
  async #boundLiveUntil(binding: GrantBinding, clientId: string | undefined, exp: number): Promise<number | undefined> {
    if (!binding.grantId) return exp;
    const { Grant, Session } = this.#provider;
    const grant = await Grant.adapter.find(binding.grantId);
    if (!grant || !live(grant.exp) || grant.clientId !== clientId) return undefined;
    let until = Math.min(exp, grant.exp ?? Infinity);
    if (binding.expiresWithSession) {
      const session = binding.sessionUid ? await Session.adapter.findByUid(binding.sessionUid) : undefined;
      const authorization = (session?.authorizations as Record<string, { grantId?: string }> | undefined)?.[clientId!];
      if (!session || !live(session.exp) || session.accountId !== binding.accountId || authorization?.grantId !== binding.grantId) return undefined;
      until = Math.min(until, session.exp ?? Infinity);
    }
    return until;
  }

  /**
   * Makes the record of a JWT access token from its claims (and a user's JWT's state), unless it
   * exists, was revoked, or the JWT is not one this issuer signed and still valid. Returns its model
   * and expiry when the record is there afterwards.
   */
  async #makeRecord(jwt: string, handle: string, verified?: JWTPayload): Promise<MadeRecord | undefined> {
    const clientCredentials = isClientCredentialsJti(unverifiedClaims(jwt)?.jti);
    const model = clientCredentials ? this.#provider.ClientCredentials : this.#provider.AccessToken;
    const existing = await model.adapter.find(handle);
    if (existing) return { model, clientCredentials, exp: Number(existing.exp) };
    const state = clientCredentials ? {} : await this.#states.find(handle);
    if (!state || (clientCredentials && (await this.#revocations.find(handle)))) return undefined;
    let claims = verified;
    if (!claims) {
      try {
        ({ payload: claims } = await jwtVerify(jwt, this.#ownKeys, { issuer: this.#provider.issuer, typ: 'at+jwt', requiredClaims: ['exp', 'iat', 'client_id'] }));
      } catch {
        return undefined; // not ours, or expired: the engine then finds nothing
      }
    }
    if (isClientCredentialsJti(claims.jti) !== clientCredentials) return undefined;
    const record = recordFromClaims(clientCredentials ? 'ClientCredentials' : 'AccessToken', claims, handle, state);
    await model.adapter.upsert(handle, record, secondsUntil(record.exp!));
    return { model, clientCredentials, exp: record.exp! };
  }

  /** After the engine revoked a JWT: its record is not made again (its state removed, or a revocation mark). */
  async #forget(handle: string, made: MadeRecord): Promise<void> {
    if (made.clientCredentials) await this.#revocations.upsert(handle, { exp: made.exp } as AdapterPayload, secondsUntil(made.exp));
    else await this.#states.destroy(handle);
  }
}

interface MadeRecord {
  model: Provider['AccessToken'] | Provider['ClientCredentials'];
  clientCredentials: boolean;
  exp: number;
}

/**
 * A token record read back from a JWT's claims (the inverse of oidc-provider's JWT format); the
 * claims that are none of the model's fields are its `extra`. `state`: the fields no claim carries.
 */
function recordFromClaims(kind: string, claims: JWTPayload, handle: string, state: Partial<AdapterPayload>): AdapterPayload {
  const { jti: _jti, sub: _sub, iss: _iss, iat, exp, client_id, aud, scope, cnf, authorization_details, ...extra } = claims;
  const confirmation = (cnf ?? {}) as { jkt?: string; 'x5t#S256'?: string };
  const record: Record<string, unknown> = { ...state, jti: handle, kind, iat, exp, clientId: client_id, aud, scope };
  if (confirmation.jkt) record.jkt = confirmation.jkt;
  if (confirmation['x5t#S256']) record['x5t#S256'] = confirmation['x5t#S256'];
  if (authorization_details) record.rar = authorization_details;
  if (Object.keys(extra).length > 0) record.extra = extra;
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record as AdapterPayload;
}

/** The payload of a compact JWS, not verified (for tokens this issuer signed, or to route a token). */
function unverifiedClaims(jwt: string): { jti?: unknown; iat?: number; exp?: number } | undefined {
  const start = jwt.indexOf('.') + 1;
  try {
    return JSON.parse(Buffer.from(jwt.slice(start, jwt.indexOf('.', start)), 'base64url').toString('utf8')) as { jti?: unknown; iat?: number; exp?: number };
  } catch {
    return undefined;
  }
}

function live(exp: unknown): boolean {
  return typeof exp !== 'number' || exp > Math.floor(Date.now() / 1000);
}

function secondsUntil(epochSeconds: number): number {
  return Math.max(1, epochSeconds - Math.floor(Date.now() / 1000));
}
