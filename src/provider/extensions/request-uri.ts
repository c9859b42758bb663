/**
 * Request objects by reference (RFC 9101 §5.2): `request_uri` naming a URL where the client serves
 * its request object. oidc-provider 9 accepts `request_uri` only for pushed requests (RFC 9126), so
 * this middleware fetches a registered URL and hands the engine the request object by value; the
 * engine then verifies it exactly as if the client had sent `request=`.
 *
 * The URL must be one the client registered in its `request_uris` metadata (OpenID Connect
 * Dynamic Client Registration §2): the server fetches only where the client said it would serve.
 */

import type { Context, Middleware } from 'koa';
import { errors, type Provider } from 'oidc-provider';
import { answerOAuthError } from '../../http/error-answers.ts';
import { readFormParameters, replaceFormParameters } from '../../http/form-body.ts';
import { errorPage } from '../ui/pages.ts';

const PUSHED_REQUEST_URN = 'urn:ietf:params:oauth:request_uri:';
const FETCH_TIMEOUT_MS = 2500;
const MAX_REQUEST_OBJECT_BYTES = 56 * 1024;
/** A compact JWS (3 parts) or JWE (5 parts). */
const COMPACT_JWT = /^[\w-]*(\.[\w-]*){2}$|^[\w-]*(\.[\w-]*){4}$/;

export interface RequestUriOptions {
  provider: Provider;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
}

/** `request_uris` client metadata: absolute http(s) URLs (checked at registration and start-up). */
export const requestUrisMetadata = {
  property: 'request_uris',
  validate(value: unknown): void {
    if (value === undefined) return;
    if (!Array.isArray(value) || !value.every((uri) => typeof uri === 'string' && /^https?:$/.test(URL.parse(uri)?.protocol ?? ''))) {
      throw new errors.InvalidClientMetadata('request_uris must be an array of http(s) URLs');
    }
  },
};

/** Middleware for the authorization endpoint. */
export function resolveRequestUriByReference(options: RequestUriOptions): Middleware {
  const { provider } = options;
  return async function resolveRequestUri(ctx, next) {
    if (ctx.method !== 'GET' && ctx.method !== 'POST') return next();
    const fromBody = ctx.method === 'POST';
    if (fromBody && !ctx.is('application/x-www-form-urlencoded')) return next();
    const params = fromBody ? await readFormParameters(ctx) : new URLSearchParams(ctx.querystring);
    if (!params) return undefined;

    const requestUris = params.getAll('request_uri');
    // Pushed requests, duplicates, and `request` together with `request_uri` are the engine's to handle.
    if (requestUris.length !== 1 || requestUris[0].startsWith(PUSHED_REQUEST_URN) || params.has('request')) return next();
    const [requestUri] = requestUris;
    const client = await provider.Client.find(params.get('client_id') ?? '');
    if (!client) return next();

    const registered = (client as unknown as { request_uris?: string[] }).request_uris ?? [];
    if (!registered.includes(requestUri.split('#')[0])) {
      return refuse(ctx, `request_uri is not registered for this client: register it in the client's request_uris`);
    }
    const fetched = await fetchRequestObject(options.fetch, requestUri);
    if ('problem' in fetched) return refuse(ctx, fetched.problem);

    params.delete('request_uri');
    params.set('request', fetched.requestObject);
    if (fromBody) replaceFormParameters(ctx, params);
    else ctx.querystring = params.toString();
    return next();
  };
}

/**
 * Discovery (OpenID Connect Discovery 1.0 §3): oidc-provider reports `request_uri_parameter_supported:
 * false`, its own view; with this resolution on it is true, and registration is required.
 */
export function advertiseRequestUriByReference(discovery: Record<string, unknown>): void {
  Object.assign(discovery, { request_uri_parameter_supported: true, require_request_uri_registration: true });
}

async function fetchRequestObject(
  fetch: RequestUriOptions['fetch'],
  url: string,
): Promise<{ requestObject: string } | { problem: string }> {
  let response: Response;
  try {
    response = await fetch(url.split('#')[0], {
      headers: { accept: 'application/oauth-authz-req+jwt, application/jwt' },
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (error) {
    return {
      problem: `request_uri could not be fetched (${(error as Error).name === 'TimeoutError' ? 'timed out' : 'connection failed'})`,
    };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { problem: `request_uri answered HTTP ${response.status}, not 200 with a request object` };
  }
  const text = (await response.text()).trim();
  if (text.length > MAX_REQUEST_OBJECT_BYTES) return { problem: 'the request object at request_uri is too large' };
  if (!COMPACT_JWT.test(text)) return { problem: 'request_uri did not serve a request object (a signed or encrypted JWT)' };
  return { requestObject: text };
}

/**
 * RFC 9101 §7: `invalid_request_uri`. The client's redirect_uri lives inside the request object we
 * could not read, so the error is shown to the user rather than redirected.
 */
function refuse(ctx: Context, description: string): void {
  answerOAuthError(ctx, 400, 'invalid_request_uri', description, { page: errorPage });
}
