/**
 * Consent as oidc-provider (7+) models it: a Grant per account and client holding the OIDC scopes
 * and claims, and the scopes per resource indicator (RFC 8707), that the person agreed to. The
 * consent page and CIBA approvals both end here.
 */
import type { Provider } from 'oidc-provider';

/** What a person consents to. */
export interface GrantContents {
  oidcScopes: readonly string[];
  oidcClaims: readonly string[];
  /** Resource indicator → scopes of that resource server. */
  resourceScopes: Readonly<Record<string, readonly string[]>>;
}

export interface GrantOwner {
  accountId: string | undefined;
  clientId: string;
  /** An existing grant to add to (a client asking for more), else a new one is made. */
  grantId?: string;
}

/** Saves a Grant holding `contents` and returns its id. */
export async function saveGrant(provider: Provider, owner: GrantOwner, contents: GrantContents): Promise<string> {
  const grant =
    (owner.grantId ? await provider.Grant.find(owner.grantId) : undefined) ??
    new provider.Grant({ accountId: owner.accountId, clientId: owner.clientId });
  if (contents.oidcScopes.length > 0) grant.addOIDCScope(contents.oidcScopes.join(' '));
  if (contents.oidcClaims.length > 0) grant.addOIDCClaims([...contents.oidcClaims]);
  for (const [indicator, scopes] of Object.entries(contents.resourceScopes)) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}
