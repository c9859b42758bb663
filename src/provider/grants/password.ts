/**
 * The resource owner password credentials grant (RFC 6749 §4.3), for legacy apps under test: off
 * unless `issuer.features.password_grant` is on, and only for clients registered with `password`
 * in `grant_types` (oidc-provider checks that before the handler runs). OAuth 2.1 drops the grant.
 *
 * Tokens follow the rules of the other grants: the access token is for `resource`, or for the one
 * resource owning the requested scopes, else an opaque token without audience (a userinfo token
 * with `openid`); a refresh token for clients with the refresh_token grant; an ID token with
 * `openid`.
 */
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { IssuerSettings } from '../../fixtures/schema.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import type { ResourceCatalog } from '../resources.ts';
import {
  dpopProofOf,
  grantFor,
  issueAccessToken,
  issueIdToken,
  issueRefreshToken,
  rejectUnknownScopes,
  requireParameters,
  resolveTarget,
  scopeList,
} from './issue.ts';

export const PASSWORD = 'password';

export interface PasswordGrantOptions {
  resources: ResourceCatalog;
  users: UserDirectory;
  /** Scopes that are not a resource server's: openid, offline_access and the claim scopes. */
  oidcScopes: ReadonlySet<string>;
  idTokenClaims: IssuerSettings['id_token_claims'];
}

export function registerPasswordGrant(provider: Provider, options: PasswordGrantOptions): void {
  const handler = async (ctx: KoaContextWithOIDC) => passwordGrant(ctx, options);
  provider.registerGrantType(PASSWORD, handler as unknown as Parameters<Provider['registerGrantType']>[1], [
    'username',
    'password',
    'scope',
    'resource',
  ]);
}

async function passwordGrant(
  ctx: KoaContextWithOIDC,
  { resources, users, oidcScopes, idTokenClaims }: PasswordGrantOptions,
): Promise<void> {
  const params = ctx.oidc.params as Record<string, string | undefined>;
  const client = ctx.oidc.client!;
  requireParameters(ctx, 'username', 'password');
  const dpop = await dpopProofOf(ctx);
  const user = await users.authenticate(params.username!, params.password!);
  if (!user) throw new errors.InvalidGrant('invalid resource owner credentials');

  const requested = scopeList(params.scope);
  rejectUnknownScopes(requested, oidcScopes, resources);

  const target = resolveTarget(params.resource, requested, resources, client.clientId);
  const oidc = requested.filter((scope) => oidcScopes.has(scope));
  const atTarget = target ? requested.filter((scope) => target.info.scope.split(' ').includes(scope)) : oidc;
  const accountId = user.sub;
  const gty = PASSWORD;
  // The grant holds everything asked for, so a refresh token can later mint either kind of token.
  const grantId = await grantFor(ctx, accountId, oidc, target, atTarget);

  const { token, value } = await issueAccessToken(ctx, grantId, { accountId, gty, target, scopes: atTarget, dpop });
  const refresh = client.grantTypeAllowed('refresh_token')
    ? (await issueRefreshToken(ctx, grantId, { accountId, gty, target, scopes: requested, dpop })).value
    : undefined;
  const idToken = oidc.includes('openid')
    ? await issueIdToken(ctx, { ...user.claims, sub: user.sub }, oidc, token.aud, idTokenClaims)
    : undefined;

  ctx.body = {
    access_token: value,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope ?? '',
    ...(refresh ? { refresh_token: refresh } : {}),
    ...(idToken ? { id_token: idToken } : {}),
  };
}
