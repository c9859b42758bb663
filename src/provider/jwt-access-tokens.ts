/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens.
 *
 * oidc-provider does not store JWT access tokens, so its introspection and revocation endpoints
 * answer `unsupported_token_type` for them. The testbed gives each JWT an opaque-format record under
 * a handle (the SHA-256 of the JWT) in the AccessToken or ClientCredentials model, and requests to
 * the two endpoints that carry a JWT have the token replaced by its handle before oidc-provider's
 * own pipeline runs, so client authentication, policies, grant checks, `revokeByGrantId` and
 * session binding all apply unchanged. Two kinds of JWT, two ways to the record:
 *
 * - A user's JWT (AccessToken: code, refresh, device, CIBA, token exchange, password grant) belongs
 *   to a grant that can be revoked under it (refresh-token reuse, logout) and has data no claim
 *   carries (grant, session, account): its record is stored as it is issued.
 * - A client-credentials JWT (ClientCredentials) belongs to no grant, and every field of its record
 *   is one of its claims: nothing is stored when it is issued, so issuance costs what oidc-provider's
 *   own does. Its `jti` starts with `cc-` (RFC 9068 §2.2 leaves `jti` opaque) to tell it apart; when
 *   it is introspected, revoked or presented, its signature is checked and its record is made from
 *   its claims. Revoking it leaves a revocation mark under its handle until it expires, so the
 *   record is never made again.
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Middleware } from 'koa';
import type { Adapter, AdapterPayload, KoaContextWithOIDC, Provider } from 'oidc-provider';
import { readFormParameters, replaceFormParameters } from '../server/form-body.ts';
import { REVOCATION_MARK_MODEL, type Store } from '../store/store.ts';
import { publicJwk } from './keys.ts';

export type StructuredToken = InstanceType<Provider['AccessToken']> | InstanceType<Provider['ClientCredentials']>;

/** The `jti` prefix of a client-credentials JWT access token (see the module comment). */
export const CLIENT_CREDENTIALS_JTI_PREFIX = 'cc-';

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
  /** The issuer's store (its namespace): revocation marks live there. */
  store: Store;
  /** The issuer's private signing keys; only their public parts are used. */
  signingKeys: readonly JWK[];
}

/** One issuer's JWT access-token records. */
export class JwtAccessTokens {
  readonly #provider: Provider;
  readonly #revocations: Adapter;
  readonly #ownKeys: ReturnType<typeof createLocalJWKSet>;

  constructor(options: JwtAccessTokenOptions) {
    this.#provider = options.provider;
    this.#revocations = options.store.adapterFor(REVOCATION_MARK_MODEL);
    this.#ownKeys = createLocalJWKSet({ keys: options.signingKeys.map(publicJwk) });
  }

  /** Token endpoint middleware: after an answer that carries a user's JWT access token, store its record. */
  recordIssued(): Middleware {
    return async function recordIssuedJwtAccessToken(ctx, next) {
      await next();
      if (ctx.status !== 200) return;
      const body = ctx.body as { access_token?: unknown } | undefined;
      if (!looksLikeJwt(body?.access_token)) return;
      const token = (ctx as unknown as KoaContextWithOIDC).oidc.entities.AccessToken;
      if (token?.format !== 'jwt') return;
      await storeRecord(token, body.access_token);
    };
  }

  /**
   * Introspection and revocation middleware: a `token` that is a JWT is replaced by its handle
   * before oidc-provider's own pipeline reads the body (a client-credentials JWT's record made
   * first); a client-credentials JWT that the engine revoked gets its revocation mark.
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
      const made = await this.#recordClientCredentialsJwt(token, handle);
      await next();
      if (made && ctx.status === 200 && !(await this.#provider.ClientCredentials.adapter.find(handle))) {
        await this.#markRevoked(handle, made.exp);
      }
      return undefined;
    };
  }

  /**
   * The live record of an access token this issuer issued: an opaque token by its value, a JWT by
   * its handle (a client-credentials JWT's made from its verified claims). Undefined when it is not
   * live: unknown, expired, revoked, or its grant gone.
   */
  async findLive(value: string): Promise<StructuredToken | undefined> {
    if (!looksLikeJwt(value)) return (await this.#findLiveRecordAndGrant(value))?.token;
    const handle = jwtAccessTokenHandle(value);
    await this.#recordClientCredentialsJwt(value, handle);
    return (await this.#findLiveRecordAndGrant(handle))?.token;
  }

  /**
   * For the mock APIs, which verified the token themselves: until when (epoch seconds) it stays
   * live if nothing is removed from the store (the earlier of its own expiry and its grant's), or
   * undefined when it is not live now. `recordId` is an opaque token's value or a JWT's handle.
   */
  async liveUntil(recordId: string, verified: { format: 'jwt' | 'opaque'; tokenId: string; exp: number }): Promise<number | undefined> {
    if (verified.format === 'jwt' && isClientCredentialsJti(verified.tokenId)) {
      return (await this.#revocations.find(recordId)) ? undefined : verified.exp;
    }
    const found = await this.#findLiveRecordAndGrant(recordId);
    if (!found) return undefined;
    return Math.min(found.token.exp ?? Infinity, found.grant?.exp ?? Infinity);
  }

  async #findLiveRecordAndGrant(id: string) {
    const provider = this.#provider;
    const token: StructuredToken | undefined = (await provider.AccessToken.find(id)) ?? (await provider.ClientCredentials.find(id));
    if (!token?.isValid) return undefined;
    const grantId = 'grantId' in token ? token.grantId : undefined;
    if (!grantId) return { token, grant: undefined };
    const grant = await provider.Grant.find(grantId);
    return grant !== undefined && grant.clientId === token.clientId ? { token, grant } : undefined;
  }

  /**
   * Makes the record of a client-credentials JWT from its claims, unless it exists, was revoked, or
   * the JWT is not one this issuer signed and still valid. Returns its expiry when the record is
   * there afterwards; undefined for every other JWT (a user's JWT has its record from issuance).
   */
  async #recordClientCredentialsJwt(jwt: string, handle: string): Promise<{ exp: number } | undefined> {
    if (!isClientCredentialsJti(unverifiedClaims(jwt)?.jti)) return undefined;
    const { adapter } = this.#provider.ClientCredentials;
    const existing = await adapter.find(handle);
    if (existing) return { exp: Number(existing.exp) };
    if (await this.#revocations.find(handle)) return undefined;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(jwt, this.#ownKeys, { issuer: this.#provider.issuer, typ: 'at+jwt', requiredClaims: ['exp', 'iat', 'client_id'] }));
    } catch {
      return undefined; // not ours, or expired: the engine then finds nothing
    }
    if (!isClientCredentialsJti(claims.jti)) return undefined;
    const record = clientCredentialsRecord(claims, handle);
    await adapter.upsert(handle, record, secondsUntil(record.exp!));
    return { exp: record.exp! };
  }

  async #markRevoked(handle: string, exp: number): Promise<void> {
    await this.#revocations.upsert(handle, { exp } as AdapterPayload, secondsUntil(exp));
  }
}

/** The stored fields of each model (oidc-provider builds the list anew on every read). */
const payloadFields = new WeakMap<object, readonly string[]>();

async function storeRecord(token: StructuredToken, jwt: string): Promise<void> {
  const Model = token.constructor as unknown as { IN_PAYLOAD: string[] };
  let fields = payloadFields.get(Model);
  if (!fields) payloadFields.set(Model, (fields = [...new Set(Model.IN_PAYLOAD)]));
  const payload: Record<string, unknown> = {};
  for (const key of fields) {
    const value = (token as unknown as Record<string, unknown>)[key];
    if (value !== undefined) payload[key] = value;
  }
  // oidc-provider's JWT format computes iat and exp into the JWT only, not onto the model: take
  // them from the token just signed, so the record lives (and introspects) exactly as long.
  const { iat, exp } = unverifiedClaims(jwt) ?? {};
  const handle = jwtAccessTokenHandle(jwt);
  Object.assign(payload, { jti: handle, iat, exp });
  await token.adapter.upsert(handle, payload as AdapterPayload, secondsUntil(Number(exp)));
}

/**
 * The ClientCredentials record of a client-credentials JWT: oidc-provider's JWT format writes each
 * field of the model as a claim (`lib/models/formats/jwt.js`), so this reads them back; the claims
 * that are none of those are its `extra`.
 */
function clientCredentialsRecord(claims: JWTPayload, handle: string): AdapterPayload {
  const { jti: _jti, sub: _sub, iss: _iss, iat, exp, client_id, aud, scope, cnf, authorization_details, ...extra } = claims;
  const confirmation = (cnf ?? {}) as { jkt?: string; 'x5t#S256'?: string };
  const record: Record<string, unknown> = { jti: handle, kind: 'ClientCredentials', iat, exp, clientId: client_id, aud, scope };
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

function secondsUntil(epochSeconds: number): number {
  return Math.max(1, epochSeconds - Math.floor(Date.now() / 1000));
}
