import type { Account, FindAccount } from 'oidc-provider';
import type { UserDirectory } from '../store/user-directory.ts';

/** OpenID Connect Core §5.4: the claims each standard scope releases. */
export const STANDARD_SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/**
 * Scope → claims: the standard mapping, with the fixture's claims for a standard scope added to its
 * standard ones (so `profile: [roles]` releases `roles` beside `name` & co.), and its other scopes
 * beside them.
 */
export function scopeClaims(extra: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const [scope, claims] of [...Object.entries(STANDARD_SCOPE_CLAIMS), ...Object.entries(extra)]) {
    merged[scope] = [...new Set([...(merged[scope] ?? []), ...claims])];
  }
  return merged;
}

/** oidc-provider's `findAccount`: fixture users, with claims as changed at the time of each request. */
export function accountFinder(users: UserDirectory): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await users.findBySub(sub);
    if (!user) return undefined;
    return {
      accountId: user.sub,
      // oidc-provider filters these by the granted scopes and claims.
      claims: async () => ({ ...user.claims, sub: user.sub }),
    };
  };
}
