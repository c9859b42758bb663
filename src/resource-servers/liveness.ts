/**
 * Revocation state, read straight from the issuer the APIs run beside. A revoked token, or one
 * whose grant was revoked (refresh-token reuse, logout), is refused on its next use even while the
 * APIs' verified-token cache still holds it.
 */
import type { Provider } from 'oidc-provider';
import { isJwtAccessTokenLive } from '../provider/jwt-access-tokens.ts';
import type { LivenessCheck } from './access-tokens.ts';

export function issuerLiveness(provider: Provider): LivenessCheck {
  return (token, format) => (format === 'jwt' ? isJwtAccessTokenLive(provider, token) : isOpaqueAccessTokenLive(provider, token));
}

/** The opaque-token counterpart of isJwtAccessTokenLive: an opaque token's value is its record id. */
async function isOpaqueAccessTokenLive(provider: Provider, token: string): Promise<boolean> {
  const record = (await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token));
  if (!record?.isValid) return false;
  const grantId = 'grantId' in record ? record.grantId : undefined;
  if (!grantId) return true;
  const grant = await provider.Grant.find(grantId);
  return grant !== undefined && grant.clientId === record.clientId;
}
