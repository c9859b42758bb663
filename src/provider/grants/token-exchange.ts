/**
 * RFC 8693 token exchange as an oidc-provider custom grant. A client presents a token this issuer
 * issued (`subject_token`: an access token, JWT or opaque, or an ID token) and gets an access token
 * for one target, optionally on behalf of an actor (`actor_token`, recorded as `act`, §4.1).
 *
 * The target is `resource` (RFC 8707) or `audience` (a fixture resource's audience or indicator),
 * at most one, which the client must be allowed; without either, the one resource owning the
 * requested scopes, else (with `openid`) an opaque userinfo token.
 * Scope: the requested scopes the target offers (default: the subject token's scopes the target
 * offers). The subject token's scope bounds it only when the subject is an access token for the same
 * target: re-scoping a token for its own audience can only narrow it — except for a first-party
 * client (consent implied), which may ask for any scope the target offers, as its sign-in could
 * have without asking the user (express-openid-connect's custom-token-exchange example does).
 */
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { ResourceCatalog } from '../resources.ts';
import {
  dpopProofOf,
  grantFor,
  issueAccessToken,
  issueRefreshToken,
  rejectUnknownScopes,
  requireParameters,
  resolveTarget,
  scopeList,
  type Target,
} from './issue.ts';
import { type PresentedToken, type PresentedTokens, TOKEN_TYPES } from './presented-tokens.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'resource',
  'audience',
  'scope',
];

export interface TokenExchangeOptions {
  resources: ResourceCatalog;
  presentedTokens: PresentedTokens;
  /** Scopes that are not a resource server's: openid, offline_access and the claim scopes. */
  oidcScopes: ReadonlySet<string>;
  /** Whether the user's consent is implied for the client (fixture `first_party`). */
  consentImplied: (clientId: string) => boolean;
}

export function registerTokenExchange(provider: Provider, options: TokenExchangeOptions): void {
  const handler = async (ctx: KoaContextWithOIDC) => exchange(ctx, options);
  // `resource` and `audience` may repeat (RFC 8693 §2.1); more than one is refused below.
  provider.registerGrantType(TOKEN_EXCHANGE, handler as unknown as Parameters<Provider['registerGrantType']>[1], PARAMETERS, [
    'resource',
    'audience',
  ]);
}

async function exchange(ctx: KoaContextWithOIDC, options: TokenExchangeOptions): Promise<void> {
  const { resources, presentedTokens, oidcScopes, consentImplied } = options;
  const params = ctx.oidc.params as Record<string, string | string[] | undefined>;
  const client = ctx.oidc.client!;
  requireParameters(ctx, 'subject_token', 'subject_token_type');
  if ((params.actor_token === undefined) !== (params.actor_token_type === undefined)) {
    throw new errors.InvalidRequest('actor_token and actor_token_type go together (RFC 8693 §2.1)');
  }
  const requestedType = (params.requested_token_type as string | undefined) ?? TOKEN_TYPES.accessToken;
  if (requestedType !== TOKEN_TYPES.accessToken && requestedType !== TOKEN_TYPES.refreshToken) {
    throw new errors.InvalidRequest(
      `requested_token_type ${requestedType} is not supported (supported: ${TOKEN_TYPES.accessToken} ${TOKEN_TYPES.refreshToken})`,
    );
  }
  if (requestedType === TOKEN_TYPES.refreshToken && !client.grantTypeAllowed('refresh_token')) {
    throw new errors.InvalidRequest('a refresh token is issued only to clients registered for the refresh_token grant');
  }
  const dpop = await dpopProofOf(ctx);

  const subject = await presentedTokens.verify(
    'subject_token',
    params.subject_token as string,
    params.subject_token_type as string,
    client.clientId,
  );
  const actor =
    params.actor_token === undefined
      ? undefined
      : await presentedTokens.verify('actor_token', params.actor_token as string, params.actor_token_type as string, client.clientId);

  const requested = params.scope === undefined ? undefined : scopeList(params.scope);
  if (requested) rejectUnknownScopes(requested, oidcScopes, resources);

  const target = resolveTarget(namedTarget(params, resources), requested ?? [], resources, client.clientId);
  const scopes = target
    ? scopesAtTarget(subject, target, requested, consentImplied(client.clientId))
    : userinfoScopes(subject, requested ?? [], oidcScopes);
  if (requestedType === TOKEN_TYPES.refreshToken && !subject.user) {
    throw new errors.InvalidRequest("subject_token is a client's own token: refresh tokens are issued for users only");
  }

  const act = actor ? { sub: actor.sub, ...(subject.act ? { act: subject.act } : {}) } : subject.act;
  const request = { accountId: subject.sub, gty: TOKEN_EXCHANGE, target, scopes, dpop, ...(act ? { extra: { act } } : {}) };
  const grantId = await grantFor(ctx, subject.sub, target ? [] : scopes, target, scopes);

  if (requestedType === TOKEN_TYPES.refreshToken) {
    const { token, value } = await issueRefreshToken(ctx, grantId, request);
    // RFC 8693 §2.2.1: the issued token travels in access_token whatever its type; N_A: not an access token.
    ctx.body = {
      access_token: value,
      issued_token_type: TOKEN_TYPES.refreshToken,
      token_type: 'N_A',
      expires_in: token.expiration,
      scope: scopes.join(' '),
    };
    return;
  }
  const { token, value } = await issueAccessToken(ctx, grantId, request);
  ctx.body = {
    access_token: value,
    issued_token_type: TOKEN_TYPES.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope ?? '',
  };
}

/** The indicator the request names (RFC 8693 §2.1 `resource` or `audience`, at most one), if any. */
function namedTarget(params: Record<string, string | string[] | undefined>, resources: ResourceCatalog): string | undefined {
  const named = [
    ...[params.resource ?? []].flat().map((value) => ({ value, resource: resources.find(value) })),
    ...[params.audience ?? []].flat().map((value) => ({ value, resource: resources.findByAudience(value) ?? resources.find(value) })),
  ];
  if (named.length > 1)
    throw new errors.InvalidTarget('only one resource or audience per token exchange request: an access token has one audience');
  if (named.length === 0) return undefined;
  const [{ value, resource }] = named;
  if (!resource) throw new errors.InvalidTarget(`unknown resource or audience ${value}`);
  return resource.indicator;
}

function scopesAtTarget(subject: PresentedToken, target: Target, requested: readonly string[] | undefined, mayWiden: boolean): string[] {
  const offered = new Set(target.info.scope.split(' '));
  const audience = target.info.audience ?? target.indicator;
  const sameTarget = subject.audience === audience;
  if (requested === undefined) {
    const scopes = [...subject.scopes].filter((scope) => offered.has(scope));
    if (scopes.length === 0)
      throw new errors.InvalidScope(`the subject token carries no scope of ${target.indicator}: name the scopes wanted with scope`, '');
    return scopes;
  }
  // Scopes of other resources and OIDC scopes are left out, as in oidc-provider's own grants.
  const scopes = requested.filter((scope) => offered.has(scope));
  if (scopes.length === 0)
    throw new errors.InvalidScope(`none of the requested scopes is a scope of ${target.indicator}`, (requested ?? []).join(' '));
  const beyond = sameTarget && !mayWiden ? scopes.filter((scope) => !subject.scopes.has(scope)) : [];
  if (beyond.length > 0)
    throw new errors.InvalidScope(
      `the subject token, for the same audience, does not carry ${beyond.join(' ')}: a token exchange cannot widen it`,
      beyond.join(' '),
    );
  return scopes;
}

/** Without a target: a userinfo token, for a user, when `openid` is requested. */
function userinfoScopes(subject: PresentedToken, requested: readonly string[], oidcScopes: ReadonlySet<string>): string[] {
  if (!requested.includes('openid')) {
    throw new errors.InvalidTarget('name the target with resource or audience (or ask for scope openid to get a userinfo token)');
  }
  if (!subject.user) throw new errors.InvalidRequest("subject_token is a client's own token: a userinfo token needs a user");
  return requested.filter((scope) => oidcScopes.has(scope));
}
