import type { Adapter, AdapterPayload } from 'oidc-provider';

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
  /** Adds `by` (default 1) to a whole-number field of a field-set document (absent: 0); returns the sum. Atomic across replicas. */
  incrementField(name: string, field: string, by?: number): Promise<number>;
  /**
   * The live records of one model in this namespace (e.g. every `Session`), in no order: a scan of
   * the store, for control endpoints, never on a request's way through the engine.
   */
  listRecords(model: string): Promise<Array<{ id: string; payload: AdapterPayload }>>;
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
  /**
   * Moves when a model record is removed or consumed (`destroy`, `revokeByGrantId`, `consume`), a
   * revocation mark is written or a session is written (`REMOVAL_COUNTING_MODELS`); not on expiry.
   */
  readonly removals: number;
  /** Moves when a field-set document is written or loses fields. */
  readonly fieldSets: number;
}

/** The models oidc-provider revokes by grant (`revokeByGrantId`), as its own memory adapter. */
export const GRANTABLE_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * The model whose records mark a JWT access token revoked before it expires (JWTs have no record of
 * their own until they are introspected; src/provider/jwt-access-tokens.ts). Writing one is a removal for
 * `LocalRevisions.removals`, as destroying a record is.
 */
export const REVOCATION_MARK_MODEL = 'RevokedAccessToken';

/**
 * The model whose records, keyed by grant id, say when a grant's access tokens were revoked while the
 * grant was kept: users' JWT access tokens issued before are refused (src/provider/jwt-access-tokens.ts).
 */
export const GRANT_REVOCATION_MARK_MODEL = 'RevokedGrantAccessTokens';

/**
 * Models whose every write counts as a removal (moves `LocalRevisions.removals`): the revocation
 * marks, and sessions — a session written anew can stop holding a grant or change account, which
 * unbinds the tokens bound to it (oidc-provider's `checkSessionBinding`).
 */
export const REMOVAL_COUNTING_MODELS: ReadonlySet<string> = new Set([REVOCATION_MARK_MODEL, GRANT_REVOCATION_MARK_MODEL, 'Session']);

/**
 * How long a record is kept past its expiry. oidc-provider looks expired records up on purpose
 * (`ignoreExpiration`) to answer `expired_token` (RFC 8628 §3.5, CIBA §11) or "expired" rather than
 * "not found"; its own memory adapter keeps them `expiresIn + clockTolerance` (15 s) for that.
 * Every lookup that matters checks `exp` itself.
 */
export const EXPIRED_RECORD_GRACE_SECONDS = 15;

/** The namespace of a root store used directly, without `namespace()`. */
export const DEFAULT_NAMESPACE = 'default';
