/**
 * What an app answered, kept in memory: the last requests (method, path, status, client, OAuth
 * error; never a query, a body or a token), and listeners told of each one as it completes. Tests
 * and tools read it instead of parsing the log; scenario verdicts judge from it.
 */
import type { Context, Middleware } from 'koa';
import { clientIdOf } from './request-log.ts';

export interface RecordedRequest {
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
}

export type RequestListener = (request: RecordedRequest) => void;

export class RequestRecord {
  readonly #limit: number;
  readonly #requests: RecordedRequest[] = [];
  readonly #listeners = new Set<RequestListener>();

  /** Keeps the last `limit` requests (listeners see every one). */
  constructor(limit = 1000) {
    this.#limit = limit;
  }

  add(request: RecordedRequest): void {
    this.#requests.push(request);
    if (this.#requests.length > this.#limit) this.#requests.splice(0, this.#requests.length - this.#limit);
    for (const listener of this.#listeners) listener(request);
  }

  /** The kept requests, oldest first. */
  list(): readonly RecordedRequest[] {
    return [...this.#requests];
  }

  clear(): void {
    this.#requests.length = 0;
  }

  /** Calls `listener` for each request from now on; returns the function that stops it. */
  subscribe(listener: RequestListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Records each request into `record` once its answer is decided (errors included: this runs outside the error layer's answer). */
export function recordRequests(record: RequestRecord): Middleware {
  return async function recordRequest(ctx, next) {
    const at = Date.now();
    const started = process.hrtime.bigint();
    // As received, with the path an issuer is mounted under (koa-mount style dispatch strips it):
    // a layer inside may route the request elsewhere by rewriting ctx.path.
    const path = typeof ctx.path === 'string' ? `${(ctx as { mountPath?: string }).mountPath ?? ''}${ctx.path}` : '';
    try {
      await next();
    } finally {
      record.add(describe(ctx, at, path, Number(process.hrtime.bigint() - started) / 1e6));
    }
  };
}

function describe(ctx: Context, at: number, path: string, ms: number): RecordedRequest {
  const entry: RecordedRequest = {
    at,
    method: ctx.method,
    path,
    status: ctx.status,
    ms: Math.round(ms * 10) / 10,
  };
  const route = Object.hasOwn(ctx, 'oidc') ? (ctx as unknown as { oidc: { route?: unknown } }).oidc.route : undefined;
  if (typeof route === 'string') entry.route = route;
  const client = clientIdOf(ctx);
  if (client) entry.client_id = client;
  const grantType = Object.hasOwn(ctx, 'oidc')
    ? (ctx as unknown as { oidc: { params?: { grant_type?: unknown } } }).oidc.params?.grant_type
    : undefined;
  if (typeof grantType === 'string') entry.grant_type = grantType;
  const body = ctx.body as { error?: unknown } | null | undefined;
  if (ctx.status >= 400 && body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body.error === 'string')
    entry.error = body.error;
  return entry;
}
