import type { Adapter } from 'oidc-provider';

export interface StoreHealth {
  ok: boolean;
  kind: string;
  entries?: number;
  error?: string;
}

/**
 * Where an issuer keeps its protocol state (sessions, grants, codes, tokens, …). One store may
 * serve several issuers: each issuer asks for its own namespace.
 */
export interface Store {
  readonly kind: string;
  /** oidc-provider's adapter for one model (`Session`, `AccessToken`, …). */
  adapterFor(model: string): Adapter;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
