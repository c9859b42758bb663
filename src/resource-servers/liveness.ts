/**
 * Revocation state, read straight from the issuer the APIs run beside. A revoked token, or one
 * whose grant was revoked (refresh-token reuse, logout), is refused on its next use even while the
 * APIs' verified-token cache still holds it.
 */
import type { Provider } from 'oidc-provider';
import { isAccessTokenRecordLive, isJwtAccessTokenLive } from '../provider/jwt-access-tokens.ts';
import type { LivenessCheck } from './access-tokens.ts';

export function issuerLiveness(provider: Provider): LivenessCheck {
  return (token, format) => (format === 'jwt' ? isJwtAccessTokenLive(provider, token) : isAccessTokenRecordLive(provider, token));
}
