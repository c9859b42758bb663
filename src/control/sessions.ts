/**
 * The login sessions of one issuer (oidc-provider's `Session` records), listed and ended by a test:
 * OP-initiated logout, which oidc-provider only offers through the browser (RP-Initiated Logout).
 * Ending a session does what the engine's end_session confirmation does for "log out of every
 * client" (lib/actions/end_session.js): a back-channel logout token (OpenID Connect Back-Channel
 * Logout 1.0 §2.4) to each of the session's clients with a `backchannel_logout_uri`, sent by the
 * engine's own `Client.backchannelLogout`, then the session's grants revoked and the session
 * destroyed.
 *
 * The `sid` of this API is the session's `uid`: stable while the session lives (a new login resets
 * the record's id, not its uid) and not a credential (the record id is the session cookie's value,
 * never shown). The OIDC `sid` claim is per client in oidc-provider 9 (`Session.sidFor(clientId)`):
 * each summary lists them, and `end` accepts either.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import type { AdapterPayload, Configuration, Provider } from 'oidc-provider';
import type { Store } from '../store/store.ts';

/** One live login session. Times are epoch seconds. */
export interface SessionSummary {
  /** The session's id in this API (oidc-provider's session `uid`). */
  sid: string;
  sub: string;
  /** The clients the user signed in to within this session. */
  clients: string[];
  /** Client id → the `sid` claim of that client's ID tokens and logout tokens. */
  client_sids: Record<string, string>;
  auth_time: number;
  expires_at: number;
}

/** What one client's `backchannel_logout_uri` answered: its status (with the engine's complaint unless 200/204), or why there was no answer. */
export type LogoutDelivery =
  | { client_id: string; uri: string; status: number; error?: string }
  | { client_id: string; uri: string; error: string };

export interface EndedSession {
  /** The `sid` the session was ended by. */
  ended: string;
  logout: LogoutDelivery[];
}

export class SessionNotFoundError extends Error {
  constructor(sid: string) {
    super(
      `no live session with sid ${/^[\w-]{1,64}$/.test(sid) ? sid : '(not one this issuer makes)'} (a session sid from GET /sessions, or a client's sid claim)`,
    );
    this.name = 'SessionNotFoundError';
  }
}

type Fetch = NonNullable<Configuration['fetch']>;

/**
 * The statuses of the engine's outgoing requests made inside `observe`: `Client.backchannelLogout`
 * resolves with nothing on 200 and 204, so the answer is seen where the engine sends it, in its
 * `fetch` option (`wrap`). Per issuer; concurrent deliveries each see their own.
 */
export class OutgoingAnswers {
  readonly #observer = new AsyncLocalStorage<(status: number) => void>();

  /** The `fetch` option of the issuer's configuration: `send`, with its answers seen by `observe`. */
  wrap(send: Fetch): Fetch {
    return async (url, init) => {
      const response = await send(url, init);
      this.#observer.getStore()?.(response.status);
      return response;
    };
  }

  /** Runs `request` and returns the status of the last outgoing answer it received, if any. */
  async observe(request: () => Promise<unknown>): Promise<{ status?: number; error?: Error }> {
    let status: number | undefined;
    try {
      await this.#observer.run((seen) => {
        status = seen;
      }, request);
      return { status };
    } catch (error) {
      return { status, error: error as Error };
    }
  }
}

export interface SessionsOptions {
  provider: Provider;
  /** The issuer's store (its namespace). */
  store: Store;
  /** The same object the issuer's `fetch` option was wrapped with. */
  answers: OutgoingAnswers;
}

interface SessionRecord {
  id: string;
  payload: AdapterPayload & { uid?: string; accountId?: string; loginTs?: number; authorizations?: Record<string, Authorization> };
}

interface Authorization {
  sid?: string;
  grantId?: string;
  persistsLogout?: boolean;
}

/** Lists and ends an issuer's sessions (`<issuer>/_testbed/sessions`, `issuer.sessions`). */
export class Sessions {
  readonly #provider: Provider;
  readonly #store: Store;
  readonly #answers: OutgoingAnswers;

  constructor(options: SessionsOptions) {
    this.#provider = options.provider;
    this.#store = options.store;
    this.#answers = options.answers;
  }

  /** Every live session with a signed-in user, oldest login first. */
  async list(): Promise<SessionSummary[]> {
    return (await this.#records()).map(summaryOf).sort((a, b) => a.auth_time - b.auth_time || a.sid.localeCompare(b.sid));
  }

  /**
   * Ends the session named by `sid` (its `sid` here, or one of its clients' `sid` claims): logout
   * tokens to its clients, its grants revoked, the session destroyed. `SessionNotFoundError` when none.
   */
  async end(sid: string): Promise<EndedSession> {
    const record = (await this.#records()).find(
      (candidate) =>
        candidate.payload.uid === sid || Object.values(candidate.payload.authorizations ?? {}).some((entry) => entry.sid === sid),
    );
    if (!record) throw new SessionNotFoundError(sid);
    const logout = await this.#close(record, { notify: true });
    if (!logout) throw new SessionNotFoundError(sid);
    return { ended: sid, logout };
  }

  /** Ends every session without logout tokens: the RPs of an earlier test may be gone, and a reset is no logout. */
  async reset(): Promise<void> {
    await Promise.all((await this.#records()).map((record) => this.#close(record, { notify: false })));
  }

  async #records(): Promise<SessionRecord[]> {
    const now = Math.floor(Date.now() / 1000);
    const records = (await this.#store.listRecords('Session')) as SessionRecord[];
    return records.filter(({ payload }) => payload.accountId && payload.uid && (typeof payload.exp !== 'number' || payload.exp > now));
  }

  /** As the engine's end_session confirmation with `logout=yes`; undefined when the session went meanwhile. */
  async #close(record: SessionRecord, { notify }: { notify: boolean }): Promise<LogoutDelivery[] | undefined> {
    const session = await this.#provider.Session.find(record.id);
    if (!session?.accountId) return undefined;
    const authorizations = (session.authorizations ?? {}) as Record<string, Authorization>;
    const logout = notify
      ? (
          await Promise.all(Object.keys(authorizations).map((clientId) => this.#notify(clientId, session.accountId!, authorizations)))
        ).filter((delivery) => delivery !== undefined)
      : [];
    await Promise.all(
      Object.values(authorizations).map(({ grantId, persistsLogout }) =>
        grantId && !persistsLogout ? revokeGrant(this.#provider, grantId) : undefined,
      ),
    );
    await session.destroy();
    return logout;
  }

  async #notify(clientId: string, sub: string, authorizations: Record<string, Authorization>): Promise<LogoutDelivery | undefined> {
    return this.sendLogoutToken(clientId, sub, authorizations[clientId].sid);
  }

  /**
   * One back-channel logout token (OIDC Back-Channel Logout 1.0 §2.4) to a client, signed and sent
   * by the engine as its end_session does, with the RP's answer: undefined when the client has no
   * `backchannel_logout_uri`.
   */
  async sendLogoutToken(clientId: string, sub: string, sid?: string): Promise<LogoutDelivery | undefined> {
    const client = await this.#provider.Client.find(clientId).catch(() => undefined);
    const uri = client?.backchannelLogoutUri;
    if (!client || !uri) return undefined;
    const events = this.#provider as unknown as EventEmitter;
    // Untyped in @types/oidc-provider: the engine's own delivery (a logout token signed as its ID tokens are).
    const engineClient = client as unknown as { backchannelLogout(sub: string, sid?: string): Promise<void> };
    const { status, error } = await this.#answers.observe(() => engineClient.backchannelLogout(sub, sid));
    // The engine's own events for a delivery, as end_session emits them (logged by src/provider/events.ts).
    if (error) events.emit('backchannel.error', undefined, error, client, sub, sid);
    else events.emit('backchannel.success', undefined, client, sub, sid);
    if (status !== undefined) return { client_id: clientId, uri, status, ...(error ? { error: error.message } : {}) };
    return { client_id: clientId, uri, error: describeFailure(error) };
  }
}

/**
 * What oidc-provider's `revoke(ctx, grantId)` does when its `revokeGrantPolicy` keeps nothing
 * (lib/helpers/revoke.js): every token and code of the grant, then the grant. The AccessToken
 * model's adapter also marks the grant's JWT access tokens revoked (grant-revocation-marks.ts).
 */
export async function revokeGrant(provider: Provider, grantId: string): Promise<void> {
  const { AccessToken, RefreshToken, AuthorizationCode, DeviceCode, BackchannelAuthenticationRequest } = provider;
  await Promise.all([
    ...[AccessToken, RefreshToken, AuthorizationCode, DeviceCode, BackchannelAuthenticationRequest].map((model) =>
      model.revokeByGrantId(grantId),
    ),
    provider.Grant.adapter.destroy(grantId),
  ]);
}

function summaryOf({ payload }: SessionRecord): SessionSummary {
  const authorizations = payload.authorizations ?? {};
  const clientSids = Object.fromEntries(
    Object.entries(authorizations)
      .filter(([, entry]) => typeof entry.sid === 'string')
      .map(([clientId, entry]) => [clientId, entry.sid!]),
  );
  return {
    sid: payload.uid!,
    sub: payload.accountId!,
    clients: Object.keys(authorizations),
    client_sids: clientSids,
    auth_time: payload.loginTs ?? 0,
    expires_at: payload.exp ?? 0,
  };
}

/** Why a delivery got no answer: the network error under fetch's generic "fetch failed", or the timeout. */
function describeFailure(error: Error | undefined): string {
  if (!error) return 'no answer';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error.name === 'TimeoutError') return 'no answer within 2.5 s (the engine gives up on back-channel logout then)';
  return cause?.code ? `${error.message}: ${cause.code}` : (cause?.message ?? error.message);
}
