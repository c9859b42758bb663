import type { Adapter, AdapterPayload } from 'oidc-provider';
import { GRANT_REVOCATION_MARK_MODEL, type Store } from '../../store/store.ts';

/**
 * oidc-provider's `adapter` option for an issuer: every model in `store`, where the AccessToken
 * adapter's `revokeByGrantId` first marks the moment (its users' JWTs have no record to remove). The
 * mark lives as long as a grant can (`grantTtl` seconds): no JWT outlives its grant.
 */
export function withGrantRevocationMarks(store: Store, grantTtl: number): (model: string) => Adapter {
  const marks = store.adapterFor(GRANT_REVOCATION_MARK_MODEL);
  return (model) => {
    const adapter = store.adapterFor(model);
    if (model !== 'AccessToken') return adapter;
    return {
      ...adapter,
      async revokeByGrantId(grantId) {
        await marks.upsert(grantId, { revokedAt: Date.now() } as AdapterPayload, grantTtl);
        await adapter.revokeByGrantId(grantId);
      },
    };
  };
}
