/**
 * oidc-provider's own DPoP proof validation, which its built-in grants receive as bound helpers and
 * custom grants do not (registerGrantType passes none). The package has no exports map; the
 * version is pinned (~9.13) and test/provider/token-exchange.test.ts and password-grant.test.ts fail
 * loudly should the module move.
 */
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

  export interface DpopProof {
    /** RFC 7638 thumbprint of the proof's key: the `cnf.jkt` of tokens bound to it. */
    thumbprint: string;
    jti: string;
    iat: number;
  }

  /** Validates the request's `DPoP` header (signature, htm, htu, iat, nonce); undefined without one. */
  export default function validateDpop(provider: Provider, ctx: KoaContextWithOIDC, accessToken?: string): Promise<DpopProof | undefined>;
  /** Refuses a proof `jti` already seen for the client (RFC 9449 §11.1). */
  export function checkDpopReplay(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    proof: DpopProof | undefined,
    clientId: string,
  ): Promise<void>;
}

/**
 * The internals oidc-provider keeps per Provider instance (its keystore among them), read through
 * the reader provider.js installs; undefined for anything but a Provider. Only
 * src/provider/engine/keystore.ts reads it; test/control/keys.test.ts fails should it move.
 */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export default function instance(provider: object): unknown;
}
