/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens.
 *
 * oidc-provider does not store JWT access tokens, so its introspection and revocation endpoints
 * answer `unsupported_token_type` for them. The testbed keeps, for every JWT access token it
 * issues, an opaque-format record of the same token under a handle (the SHA-256 of the JWT) in the
 * AccessToken or ClientCredentials model. Requests to the two endpoints that carry a JWT have the
 * token replaced by its handle before oidc-provider's own pipeline runs, so client authentication,
 * policies, grant checks, `revokeByGrantId` and session binding all apply unchanged: a revoked JWT
 * introspects `active: false`, and so does one whose grant was revoked (refresh-token reuse,
 * logout without offline_access).
 */
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AdapterPayload, KoaContextWithOIDC, Provider } from 'oidc-provider';
import { readFormParameters, replaceFormParameters } from '../server/form-body.ts';

export type StructuredToken = InstanceType<Provider['AccessToken']> | InstanceType<Provider['ClientCredentials']>;

/** The key under which a JWT access token's record is stored. */
export function jwtAccessTokenHandle(jwt: string): string {
  return createHash('sha256').update(jwt).digest('base64url');
}

export function looksLikeJwt(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value);
}

/**
 * Whether the access-token record stored under `id` is live: issued, not revoked, its grant still
 * there (and, for session-bound tokens, its session). An opaque token's value is its record id; a
 * JWT's is `jwtAccessTokenHandle(jwt)`. Signature and claims are the caller's job.
 */
export async function isAccessTokenRecordLive(provider: Provider, id: string): Promise<boolean> {
  return (await findLiveAccessTokenRecord(provider, id)) !== undefined;
}

/** The live access-token record stored under `id` (see `isAccessTokenRecordLive`), else undefined. */
export async function findLiveAccessTokenRecord(provider: Provider, id: string): Promise<StructuredToken | undefined> {
  return (await findLiveRecordAndGrant(provider, id))?.token;
}

/**
 * Until when (epoch seconds) the record stored under `id` stays live if nothing is removed from the
 * store: the earlier of its own expiry and its grant's. Undefined when it is not live now.
 */
export async function accessTokenRecordLiveUntil(provider: Provider, id: string): Promise<number | undefined> {
  const found = await findLiveRecordAndGrant(provider, id);
  if (!found) return undefined;
  return Math.min(found.token.exp ?? Infinity, found.grant?.exp ?? Infinity);
}

async function findLiveRecordAndGrant(provider: Provider, id: string) {
  const token: StructuredToken | undefined = (await provider.AccessToken.find(id)) ?? (await provider.ClientCredentials.find(id));
  if (!token?.isValid) return undefined;
  const grantId = 'grantId' in token ? token.grantId : undefined;
  if (!grantId) return { token, grant: undefined };
  const grant = await provider.Grant.find(grantId);
  return grant !== undefined && grant.clientId === token.clientId ? { token, grant } : undefined;
}

export function isJwtAccessTokenLive(provider: Provider, jwt: string): Promise<boolean> {
  return isAccessTokenRecordLive(provider, jwtAccessTokenHandle(jwt));
}

/** Token endpoint middleware: after an answer that carries a JWT access token, store its record. */
export function recordIssuedJwtAccessTokens(): Middleware {
  return async function recordIssuedJwtAccessToken(ctx, next) {
    await next();
    if (ctx.status !== 200) return;
    const body = ctx.body as { access_token?: unknown } | undefined;
    if (!looksLikeJwt(body?.access_token)) return;
    const { entities } = (ctx as unknown as KoaContextWithOIDC).oidc;
    const token: StructuredToken | undefined = entities.AccessToken ?? entities.ClientCredentials;
    if (token?.format !== 'jwt') return;
    await storeRecord(token, body.access_token);
  };
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
  const { iat, exp } = jwtTimes(jwt);
  const handle = jwtAccessTokenHandle(jwt);
  Object.assign(payload, { jti: handle, iat, exp });
  const ttl = Math.max(1, (exp ?? 0) - Math.floor(Date.now() / 1000));
  await token.adapter.upsert(handle, payload as AdapterPayload, ttl);
}

/** `iat` and `exp` of a JWT this issuer just signed (its payload only is read). */
function jwtTimes(jwt: string): { iat?: number; exp?: number } {
  const start = jwt.indexOf('.') + 1;
  const { iat, exp } = JSON.parse(Buffer.from(jwt.slice(start, jwt.indexOf('.', start)), 'base64url').toString('utf8')) as { iat?: number; exp?: number };
  return { iat, exp };
}

/**
 * Introspection and revocation middleware: a `token` that is a JWT is replaced by its handle
 * before oidc-provider's own pipeline reads the body.
 */
export function resolveJwtTokenParameter(): Middleware {
  return async function resolveJwtTokenParameter(ctx, next) {
    if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return next();
    const params = await readFormParameters(ctx);
    if (!params) return undefined;
    const tokens = params.getAll('token');
    const [token] = tokens;
    if (tokens.length === 1 && looksLikeJwt(token)) { // duplicates are left for the engine to refuse
      params.set('token', jwtAccessTokenHandle(token));
      replaceFormParameters(ctx, params);
    }
    return next();
  };
}
