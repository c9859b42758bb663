/**
 * What the testbed's own grants (token exchange, password) share: a Grant for the requesting client
 * (introspection, userinfo and the liveness checks require the token's grant to belong to its
 * client), tokens issued through oidc-provider's models, and DPoP binding.
 */
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { IssuerSettings } from '../../fixtures/schema.ts';
import { saveGrant } from '../consent-grant.ts';
import { checkDpopReplay, type DpopProof, validateDpop } from '../engine/index.ts';
import type { ResourceCatalog } from '../resources.ts';

/** A resource server to issue for: its indicator and what `ResourceCatalog.serverInfo` says about it. */
export interface Target {
  indicator: string;
  info: ResourceServer;
}

export interface AccessTokenRequest {
  accountId: string;
  gty: string;
  /** Without a target: an opaque token without audience (a userinfo token when `openid` is in scope). */
  target?: Target;
  scopes: readonly string[];
  /** Claims beside the standard ones (`act`); see `extraTokenClaims` in configuration.ts. */
  extra?: Record<string, unknown>;
  /** Binds the token to this proof's key (`cnf.jkt`, `token_type: DPoP`). */
  dpop?: Pick<DpopProof, 'thumbprint'>;
  /** Seconds; default: the issuer's access-token lifetime for the resource and client (`ttl.AccessToken`). */
  expiresIn?: number;
}

/** Saves a Grant of `oidcScopes` and, for a target, `targetScopes` there, and returns its id. */
export function grantFor(
  ctx: KoaContextWithOIDC,
  accountId: string,
  oidcScopes: readonly string[],
  target?: Target,
  targetScopes: readonly string[] = [],
): Promise<string> {
  return saveGrant(
    ctx.oidc.provider,
    { accountId, clientId: ctx.oidc.client!.clientId },
    {
      oidcScopes,
      oidcClaims: [],
      resourceScopes: target ? { [target.indicator]: targetScopes } : {},
    },
  );
}

/** The fields an access token and a refresh token of these grants share. */
function tokenFields(ctx: KoaContextWithOIDC, grantId: string, request: Pick<AccessTokenRequest, 'accountId' | 'gty' | 'scopes'>) {
  return { accountId: request.accountId, client: ctx.oidc.client!, grantId, gty: request.gty, scope: request.scopes.join(' ') };
}

/** Issues an access token (JWT or opaque, per its resource server) and returns it and its value. */
export async function issueAccessToken(ctx: KoaContextWithOIDC, grantId: string, request: AccessTokenRequest) {
  const token = new ctx.oidc.provider.AccessToken({
    ...tokenFields(ctx, grantId, request),
    ...(request.extra ? { extra: request.extra } : {}),
    ...(request.expiresIn ? { expiresIn: request.expiresIn } : {}),
  });
  if (request.target) token.resourceServer = new ctx.oidc.provider.ResourceServer(request.target.indicator, request.target.info);
  if (request.dpop) token.setThumbprint('jkt', request.dpop.thumbprint);
  // Seen by extraTokenClaims.
  ctx.oidc.entity('AccessToken', token);
  return { token, value: await token.save() };
}

export async function issueRefreshToken(
  ctx: KoaContextWithOIDC,
  grantId: string,
  request: Pick<AccessTokenRequest, 'accountId' | 'gty' | 'target' | 'scopes' | 'dpop'>,
) {
  const token = new ctx.oidc.provider.RefreshToken({
    ...tokenFields(ctx, grantId, request),
    resource: request.target?.indicator,
    authTime: Math.floor(Date.now() / 1000),
    expiresWithSession: false,
    rotations: 0,
  });
  // RFC 9449 §5: a public client's refresh token is bound to its DPoP key, as the built-in grants do.
  if (request.dpop && ctx.oidc.client!.clientAuthMethod === 'none')
    (token as unknown as { setThumbprint(prop: 'jkt', value: string): void }).setThumbprint('jkt', request.dpop.thumbprint); // untyped in @types/oidc-provider
  ctx.oidc.entity('RefreshToken', token);
  return { token, value: await token.save() };
}

/**
 * An ID token for `accountId`, as oidc-provider issues one at the token endpoint: with the claims of
 * the granted scopes, except that `id_token_claims: strict` (`conformIdTokenClaims`) leaves them to
 * userinfo unless the access token is for a resource server (and so cannot be used at userinfo).
 */
export async function issueIdToken(
  ctx: KoaContextWithOIDC,
  claims: { sub: string } & Record<string, unknown>,
  oidcScopes: readonly string[],
  accessTokenAudience: unknown,
  mode: IssuerSettings['id_token_claims'],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const scope = mode === 'strict' && !accessTokenAudience ? 'openid' : oidcScopes.join(' ');
  const idToken = new ctx.oidc.provider.IdToken(claims, { ctx });
  // The claims released are filtered by scope (and by these two, as oidc-provider's own grants set them).
  Object.assign(idToken, { scope, mask: {}, rejected: [] });
  // Claims beside the user's, whatever the scope (a direct token's `claims`, src/control/direct-tokens.ts).
  for (const [name, value] of Object.entries(extra)) idToken.set(name, value);
  // The user authenticated with this very request.
  idToken.set('auth_time', Math.floor(Date.now() / 1000));
  return idToken.issue({ use: 'idtoken' });
}

/**
 * The request's DPoP proof (RFC 9449), validated and replay-checked by oidc-provider's own code, as
 * its built-in grants do; undefined without one. A client registered with
 * `dpop_bound_access_tokens` must send one.
 */
export async function dpopProofOf(ctx: KoaContextWithOIDC): Promise<DpopProof | undefined> {
  const { provider, client } = ctx.oidc;
  const proof = await validateDpop(provider, ctx);
  if (!proof && client!.dpopBoundAccessTokens) throw new errors.InvalidGrant('DPoP proof JWT not provided');
  await checkDpopReplay(provider, ctx, proof, client!.clientId);
  return proof;
}

/**
 * The resource to issue for: `indicator` when the request named one, else the one resource the
 * client may use that owns a requested scope (the rule of the built-in grants, see resources.ts),
 * else none. `invalid_target` when the client may not have it, or several own the scopes.
 */
export function resolveTarget(
  indicator: string | undefined,
  requested: readonly string[],
  resources: ResourceCatalog,
  clientId: string,
): Target | undefined {
  let chosen = indicator;
  if (chosen === undefined) {
    const owners = resources.owningAny(new Set(requested), resources.allowedFor(clientId));
    if (owners.length > 1) throw new errors.InvalidTarget('the scope names scopes of several resources: name one with resource');
    chosen = owners[0]?.indicator;
  }
  return chosen === undefined ? undefined : { indicator: chosen, info: resources.serverInfo(chosen, clientId) };
}

/** `invalid_scope` for a scope that is neither an OpenID Connect scope nor any resource's. */
export function rejectUnknownScopes(requested: readonly string[], oidcScopes: ReadonlySet<string>, resources: ResourceCatalog): void {
  const unknown = requested.filter((scope) => !oidcScopes.has(scope) && !resources.all.some((resource) => resource.scopes.includes(scope)));
  if (unknown.length > 0) throw new errors.InvalidScope(`unknown scope: ${unknown.join(' ')}`, unknown.join(' '));
}

/** Space-delimited `scope` as a list without duplicates. */
export function scopeList(scope: unknown): string[] {
  return [
    ...new Set(
      String(scope ?? '')
        .split(' ')
        .filter(Boolean),
    ),
  ];
}

export function requireParameters(ctx: KoaContextWithOIDC, ...names: string[]): void {
  const missing = names.filter((name) => typeof ctx.oidc.params?.[name] !== 'string' || ctx.oidc.params[name] === '');
  if (missing.length > 0)
    throw new errors.InvalidRequest(`missing required parameter${missing.length > 1 ? 's' : ''} '${missing.join("', '")}'`);
}
