/**
 * Revocation state, read straight from the issuer (of those the APIs run beside) that issued the
 * token. A revoked token, or one whose grant was revoked (refresh-token reuse, logout), is refused
 * on its next use even while the APIs' verified-token cache still holds it.
 */
import type { Provider } from 'oidc-provider';
import { isAccessTokenRecordLive, isJwtAccessTokenLive } from '../provider/jwt-access-tokens.ts';
import type { LivenessCheck } from './access-tokens.ts';

export function issuerLiveness(providers: ReadonlyMap<string, Provider>): LivenessCheck {
  return async (token, format, issuer) => {
    const provider = providers.get(issuer);
    if (!provider) return false;
    return format === 'jwt' ? isJwtAccessTokenLive(provider, token) : isAccessTokenRecordLive(provider, token);
  };
}
