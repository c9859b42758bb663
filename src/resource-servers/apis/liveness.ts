/**
 * Revocation state, from the issuer (of those the APIs run beside) that issued the token. A revoked
 * token, or one whose grant was revoked (refresh-token reuse, logout, revocation), is refused on its
 * very next use, even while the APIs' verified-token cache still holds it.
 *
 * The rule for asking the store:
 * - On a process-local store (memory), every removal of a record — a token destroyed, a grant's
 *   tokens revoked (`revokeByGrantId`), a grant destroyed, a session written anew (it may no longer
 *   hold the grant), whatever path of oidc-provider or of ours did it — goes through this process's
 *   adapter and moves the store's `removals` counter.
 *   A token found live at counter value n is still live while the counter reads n and neither it
 *   nor its grant has expired, so a repeated use asks nothing; any removal makes the next use of every
 *   cached token look again. Watching the adapter rather than oidc-provider's events also covers
 *   removals that emit none (`revokeByGrantId` under a policy that keeps the grant) and direct
 *   adapter calls.
 * - On a shared store (Redis), other replicas revoke without this process seeing it: every use
 *   reads the store (an opaque token's record, or a JWT's revocation mark; then the grant).
 * A JWT has no record: it is live until it expires unless the store holds a revocation mark for it,
 * whose writing is a removal too; a user's JWT also needs its grant (and, when session-bound, its
 * session), named by the state sealed in its `jti` (src/provider/jwt-access-tokens.ts).
 */
import type { JwtAccessTokens } from '../../provider/extensions/jwt-access-tokens.ts';
import { jwtAccessTokenHandle } from '../../provider/extensions/jwt-records.ts';
import type { LocalRevisions } from '../../store/store.ts';
import type { TokenLiveness } from '../token-guard/access-tokens.ts';

export interface LivenessSource {
  jwtAccessTokens: JwtAccessTokens;
  store: { readonly localRevisions?: LocalRevisions };
}

/** `issuers`: the issuer of an `iss`, when it is one the APIs trust. */
export function issuerLiveness(issuers: (iss: string) => LivenessSource | undefined): TokenLiveness {
  return {
    stamp: (issuer) => issuers(issuer)?.store.localRevisions?.removals,
    // A JWT's revocation mark (and record, once introspected) is under its handle (src/provider/jwt-access-tokens.ts); an opaque token's record under its value.
    recordId: (token, format) => (format === 'jwt' ? jwtAccessTokenHandle(token) : token),
    liveUntil: (recordId, token) => issuers(token.issuer)?.jwtAccessTokens.liveUntil(recordId, token) ?? Promise.resolve(undefined),
  };
}
