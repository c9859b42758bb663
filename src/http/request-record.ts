/**
 * What an app answered, kept in memory: the last requests (method, path, status, client, OAuth
 * error; never a query, a body or a token), and listeners told of each one as it completes. Tests
 * and tools read it instead of parsing the log; scenario verdicts judge from it.
 */
import type { Context, Middleware } from 'koa';

export interface RecordedRequest {
  /** Its place in the record: increasing by one per request (a cursor for `since`). */
  seq: number;
  /** When the request arrived, epoch ms. */
  at: number;
  method: string;
  /** The path as received (never the query: it may carry codes and tokens). */
  path: string;
  status: number;
  /** Time to the answer, ms. */
  ms: number;
  /** The engine's route name (token, userinfo, authorization, resume, jwks, discovery, …), on its own routes. */
  route?: string;
  /** The client oidc-provider identified, on its own routes. */
  client_id?: string;
  /** `grant_type` of a token request. */
  grant_type?: string;
  /** The `error` of an OAuth error answer. */
  error?: string;
  /** What the client sent (secrets, codes and tokens shortened to a recognisable stub), where a recorder adds it. */
  params?: Record<string, string | string[]>;
  /** What the answer issued, decoded (JWT claims; opaque values as stubs), where a recorder adds it. */
  issued?: Record<string, unknown>;
}

/** The members of an entry worked out only when it is read (redacting and decoding cost more than recording). */
export type LaterDetails = () => Partial<Pick<RecordedRequest, 'params' | 'issued'>>;

/**
 * What a recorder adds to (or corrects in) an entry from the finished request: `route` and
 * `client_id` at once, and in `later` what is read from the request only when the entry is (it
 * must keep only what it needs of the request, never the context itself).
 */
export type RequestDetails = (
  ctx: Context,
) => (Partial<Pick<RecordedRequest, 'route' | 'client_id'>> & { later?: LaterDetails }) | undefined;

/** The record a finished request goes into, or none (it is not recorded). */
export type RecordFor = (ctx: Context) => RequestRecord | undefined;

export type RequestListener = (request: RecordedRequest) => void;

export class RequestRecord {
  readonly #limit: number;
  /** A ring once full: the oldest at `#oldest` (a full record overwrites it instead of shifting 1,000 entries). */
  readonly #requests: RecordedRequest[] = [];
  #oldest = 0;
  /** Entries whose `later` details are not worked out yet. */
  readonly #later = new WeakMap<RecordedRequest, LaterDetails>();
  readonly #listeners = new Set<RequestListener>();
  #seq = 0;

  /** Keeps the last `limit` requests (listeners see every one). */
  constructor(limit = 1000) {
    this.#limit = limit;
  }

  add(entry: Omit<RecordedRequest, 'seq'>, later?: LaterDetails): void {
    this.#seq += 1;
    const request = { seq: this.#seq, ...entry };
    if (this.#requests.length < this.#limit) this.#requests.push(request);
    else {
      this.#requests[this.#oldest] = request;
      this.#oldest = (this.#oldest + 1) % this.#limit;
    }
    if (later) this.#later.set(request, later);
    if (this.#listeners.size === 0) return;
    this.#complete(request);
    for (const listener of this.#listeners) listener(request);
  }

  /** The kept requests, oldest first; `since`: only those after that `seq`; `route`: only that engine route. */
  list(filter: { since?: number; route?: string } = {}): readonly RecordedRequest[] {
    const { since, route } = filter;
    const kept =
      this.#oldest === 0 ? [...this.#requests] : [...this.#requests.slice(this.#oldest), ...this.#requests.slice(0, this.#oldest)];
    const listed =
      since === undefined && route === undefined
        ? kept
        : kept.filter((request) => (since === undefined || request.seq > since) && (route === undefined || request.route === route));
    for (const request of listed) this.#complete(request);
    return listed;
  }

  #complete(request: RecordedRequest): void {
    const later = this.#later.get(request);
    if (!later) return;
    this.#later.delete(request);
    Object.assign(request, later());
  }

  /** The `seq` of the latest request (0 before any): pass it as `since` to see only what comes after. */
  get cursor(): number {
    return this.#seq;
  }

  clear(): void {
    this.#requests.length = 0;
    this.#oldest = 0;
  }

  /** Calls `listener` for each request from now on; returns the function that stops it. */
  subscribe(listener: RequestListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * Records each request once its answer is decided (errors included: this runs outside the error
 * layer's answer): into `into`, or into the record `into(ctx)` picks after the answer (none: not
 * recorded), with what `details` adds.
 */
export function recordRequests(into: RequestRecord | RecordFor, details?: RequestDetails): Middleware {
  const recordFor: RecordFor = typeof into === 'function' ? into : () => into;
  return async function recordRequest(ctx, next) {
    const at = Date.now();
    const started = process.hrtime.bigint();
    // As received, with the path an issuer is mounted under (koa-mount style dispatch strips it):
    // a layer inside may route the request elsewhere by rewriting ctx.path.
    const path = typeof ctx.path === 'string' ? `${(ctx as { mountPath?: string }).mountPath ?? ''}${ctx.path}` : '';
    try {
      await next();
    } finally {
      const record = recordFor(ctx);
      if (record) {
        const entry = describe(ctx, at, path, Number(process.hrtime.bigint() - started) / 1e6);
        const { later, ...now } = details?.(ctx) ?? {};
        record.add(Object.assign(entry, now), later);
      }
    }
  };
}

/** oidc-provider's context of the request, on the engine's own routes (reading `ctx.oidc` elsewhere would create one). */
export function engineContext(
  ctx: object,
): { route?: unknown; client?: { clientId: string }; params?: Record<string, unknown> } | undefined {
  return Object.hasOwn(ctx, 'oidc')
    ? (ctx as { oidc: { route?: unknown; client?: { clientId: string }; params?: Record<string, unknown> } }).oidc
    : undefined;
}

const SHOWN_ERROR = Symbol('oauth error shown as a page');
const ANSWERED_ROUTE = Symbol('route answered before the engine');

/** Names the engine route of a request answered before the engine saw it (a fault rule's answer), for `?endpoint=` filters. */
export function noteRoute(ctx: Context, route: string): void {
  (ctx.state as Record<symbol, unknown>)[ANSWERED_ROUTE] = route;
}

/** Notes the OAuth error a page shows (the engine's `renderError`): the record cannot read it from the HTML. */
export function noteOAuthError(ctx: Context, error: string): void {
  (ctx.state as Record<symbol, unknown>)[SHOWN_ERROR] = error;
}

/**
 * The `error` of an OAuth error answer: `{ error, … }` with a 4xx or 5xx status, a page that noted
 * one, or a redirect carrying one to the client (RFC 6749 §4.1.2.1 in the query, §4.2.2.1 in the fragment).
 */
function oauthErrorOf(ctx: Context): string | undefined {
  const body = ctx.body as { error?: unknown } | null | undefined;
  if (ctx.status >= 400 && body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body.error === 'string') return body.error;
  const shown = (ctx.state as Record<symbol, unknown> | undefined)?.[SHOWN_ERROR];
  if (typeof shown === 'string') return shown;
  if (ctx.status < 300 || ctx.status >= 400) return undefined;
  const location = URL.parse(ctx.response.get('location'), 'http://localhost');
  return location?.searchParams.get('error') ?? new URLSearchParams(location?.hash.slice(1)).get('error') ?? undefined;
}

function describe(ctx: Context, at: number, path: string, ms: number): Omit<RecordedRequest, 'seq'> {
  const entry: Omit<RecordedRequest, 'seq'> = { at, method: ctx.method, path, status: ctx.status, ms: Math.round(ms * 10) / 10 };
  const oidc = engineContext(ctx);
  const noted = (ctx.state as Record<symbol, unknown> | undefined)?.[ANSWERED_ROUTE];
  if (typeof oidc?.route === 'string') entry.route = oidc.route;
  else if (typeof noted === 'string') entry.route = noted;
  if (oidc?.client) entry.client_id = oidc.client.clientId;
  if (typeof oidc?.params?.grant_type === 'string') entry.grant_type = oidc.params.grant_type;
  const error = oauthErrorOf(ctx);
  if (error) entry.error = error;
  return entry;
}
