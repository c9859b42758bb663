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
import { decodeJwt } from 'jose';
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
  const token = (await provider.AccessToken.find(id)) ?? (await provider.ClientCredentials.find(id));
  if (!token?.isValid) return undefined;
  const grantId = 'grantId' in token ? token.grantId : undefined;
  if (!grantId) return token;
  const grant = await provider.Grant.find(grantId);
  return grant !== undefined && grant.clientId === token.clientId ? token : undefined;
}

export function isJwtAccessTokenLive(provider: Provider, jwt: string): Promise<boolean> {
  return isAccessTokenRecordLive(provider, jwtAccessTokenHandle(jwt));
}

/** After a token endpoint response that carries a JWT access token, store its record. */
export function recordIssuedJwtAccessTokens(tokenPath: string): Middleware {
  return async function recordIssuedJwtAccessToken(ctx, next) {
    await next();
    if (ctx.path !== tokenPath || ctx.status !== 200) return;
    const body = ctx.body as { access_token?: unknown } | undefined;
    if (!looksLikeJwt(body?.access_token)) return;
    const { entities } = (ctx as unknown as KoaContextWithOIDC).oidc;
    const token: StructuredToken | undefined = entities.AccessToken ?? entities.ClientCredentials;
    if (token?.format !== 'jwt') return;
    await storeRecord(token, body.access_token);
  };
}

async function storeRecord(token: StructuredToken, jwt: string): Promise<void> {
  const Model = token.constructor as unknown as { IN_PAYLOAD: string[] };
  const payload: Record<string, unknown> = {};
  for (const key of Model.IN_PAYLOAD) {
    const value = (token as unknown as Record<string, unknown>)[key];
    if (value !== undefined) payload[key] = value;
  }
  // oidc-provider's JWT format computes iat and exp into the JWT only, not onto the model: take
  // them from the token just signed, so the record lives (and introspects) exactly as long.
  const { iat, exp } = decodeJwt(jwt);
  const handle = jwtAccessTokenHandle(jwt);
  Object.assign(payload, { jti: handle, iat, exp });
  const ttl = Math.max(1, (exp ?? 0) - Math.floor(Date.now() / 1000));
  await token.adapter.upsert(handle, payload as AdapterPayload, ttl);
}

/**
 * Before introspection and revocation: a `token` that is a JWT is replaced by its handle. The body
 * is read here and handed on as a fresh stream, so oidc-provider parses it as usual.
 */
export function resolveJwtTokenParameter(paths: readonly string[]): Middleware {
  const routes = new Set(paths);
  return async function resolveJwtTokenParameter(ctx, next) {
    if (ctx.method !== 'POST' || !routes.has(ctx.path) || !ctx.is('application/x-www-form-urlencoded')) return next();
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
