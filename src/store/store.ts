import type { Adapter } from 'oidc-provider';

export interface StoreHealth {
  ok: boolean;
  kind: string;
  entries?: number;
  /** Redis: the connection state (`ready`, `reconnecting`, …). */
  status?: string;
  /** Redis: the URL without its password. */
  target?: string;
  error?: string;
}

/**
 * Where an issuer keeps its state: oidc-provider's models (sessions, grants, codes, tokens,
 * dynamically registered clients, …) and the testbed's own documents (signing and cookie keys,
 * run-time changes to user claims). One store may serve several issuers: each works in its own
 * `namespace()`, whose keys never meet another namespace's.
 */
export interface Store {
  readonly kind: string;
  /** A view of this store for one issuer (its issuer URL); views share the root's connection. */
  namespace(name: string): Store;
  /** oidc-provider's adapter for one model (`Session`, `AccessToken`, …). */
  adapterFor(model: string): Adapter;
  /** A document, or `undefined`. Documents never expire. */
  get(name: string): Promise<string | undefined>;
  /** Stores `value` unless the document exists; returns the document as stored afterwards. */
  putIfAbsent(name: string, value: string): Promise<string>;
  /** The fields of a field-set document (empty when absent). */
  readFields(name: string): Promise<Record<string, string>>;
  /** Sets fields of a field-set document, leaving the others; returns every field afterwards. */
  writeFields(name: string, fields: Record<string, string>): Promise<Record<string, string>>;
  /** Removes fields of a field-set document (absent ones are ignored); the document goes with its last field. */
  deleteFields(name: string, fields: readonly string[]): Promise<void>;
  health(): Promise<StoreHealth>;
  /**
   * Only on a store no other process changes (memory): counters that move on every change of
   * their kind made in this process, so a reader may keep what it read while its counter stands
   * still. Undefined on a shared store (Redis), where other replicas change records unseen.
   */
  readonly localRevisions?: LocalRevisions;
  /** Releases the store; a namespace view's `close()` does nothing (the root owns the connection). */
  close(): Promise<void>;
}

/** See `Store.localRevisions`. Counters are shared by every namespace of one store. */
export interface LocalRevisions {
  /** Moves when a model record is removed or consumed (`destroy`, `revokeByGrantId`, `consume`) or a revocation mark is written; not on expiry. */
  readonly removals: number;
  /** Moves when a field-set document is written or loses fields. */
  readonly fieldSets: number;
}

/**
 * The state of a user's JWT access token: the fields of its record that its claims do not carry
 * (src/provider/jwt-access-tokens.ts). It has a `grantId` and goes with its grant.
 */
export const JWT_ACCESS_TOKEN_STATE_MODEL = 'JwtAccessTokenState';

/** The models revoked by grant (`revokeByGrantId`): oidc-provider's own memory adapter's, and the testbed's JWT access-token state. */
export const GRANTABLE_MODELS: ReadonlySet<string> = new Set([
  JWT_ACCESS_TOKEN_STATE_MODEL,
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * The model whose records mark a token revoked before it expires (client-credentials JWTs, which have
 * no record of their own; src/provider/jwt-access-tokens.ts). Writing one is a removal for
 * `LocalRevisions.removals`, as destroying a record is.
 */
export const REVOCATION_MARK_MODEL = 'RevokedAccessToken';

/**
 * How long a record is kept past its expiry. oidc-provider looks expired records up on purpose
 * (`ignoreExpiration`) to answer `expired_token` (RFC 8628 §3.5, CIBA §11) or "expired" rather than
 * "not found"; its own memory adapter keeps them `expiresIn + clockTolerance` (15 s) for that.
 * Every lookup that matters checks `exp` itself.
 */
export const EXPIRED_RECORD_GRACE_SECONDS = 15;

/** The namespace of a root store used directly, without `namespace()`. */
export const DEFAULT_NAMESPACE = 'default';
