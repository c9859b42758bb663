/** The default fixture's clients, and the requests the benchmarks send as them (for wrk or `send`). */
import { DIRECTORY_RESOURCE, PROFILE_RESOURCE, RS256_RESOURCE, RS256_SCOPE } from './fixtures.ts';
import { basic, form, json, type Response, send, times } from './http.ts';
import type { HttpRequest } from './wrk.ts';

export const SERVICE = basic('service-client', 'service-client-secret');
export const INTROSPECTOR = basic('profile-api', 'profile-api-secret');
const FORM = 'application/x-www-form-urlencoded';

/** Client-credentials fields: an opaque (stored) token, or a JWT for a mock API's resource (RFC 8707). */
export const CC_OPAQUE: Record<string, string> = {};
export const CC_PROFILE = { resource: PROFILE_RESOURCE, scope: 'profile' };
export const CC_DIRECTORY = { resource: DIRECTORY_RESOURCE, scope: 'fr:idm:*' };
/** The bench fixture's resource whose JWT access tokens are RS256 (fixtures.ts). */
export const CC_RS256 = { resource: RS256_RESOURCE, scope: RS256_SCOPE };

export const clientCredentialsRequest = (fields: Record<string, string>, authorization = SERVICE): HttpRequest => ({
  method: 'POST',
  path: '/token',
  headers: { authorization, 'content-type': FORM },
  body: form({ grant_type: 'client_credentials', ...fields }),
});

export const introspectionRequest = (token: string, authorization = INTROSPECTOR): HttpRequest => ({
  method: 'POST',
  path: '/token/introspection',
  headers: { authorization, 'content-type': FORM },
  body: form({ token }),
});

export const revocationRequest = (token: string): HttpRequest => ({
  method: 'POST',
  path: '/token/revocation',
  headers: { authorization: SERVICE, 'content-type': FORM },
  body: form({ token, token_type_hint: 'access_token' }),
});

export const bearerRequest = (path: string, token: string): HttpRequest => ({ path, headers: { authorization: `Bearer ${token}` } });

/** One request on http.ts's keep-alive agent. */
export function sendRequest(port: number, request: HttpRequest): Promise<Response> {
  return send(port, request.method ?? 'GET', request.path, request.headers, request.body);
}

/** The access token of a 200 token response; throws with the status and body otherwise. */
export function accessTokenOf(response: Response): string {
  if (response.status !== 200) throw new Error(`token: ${response.status} ${response.body.slice(0, 200)}`);
  return (JSON.parse(response.body) as { access_token: string }).access_token;
}

/** `count` client-credentials access tokens, 32 requests at a time; `headers` adds to request i's (a DPoP proof). */
export function issueTokens(
  port: number,
  fields: Record<string, string>,
  count: number,
  headers: (i: number) => Record<string, string> = () => ({}),
): Promise<string[]> {
  return times(count, 32, (i) => {
    const request = clientCredentialsRequest(fields);
    return sendRequest(port, { ...request, headers: { ...request.headers, ...headers(i) } }).then(accessTokenOf);
  });
}

/** How many entries the testbed's store holds (its /healthz), when the store can count them. */
export async function storeEntries(port: number): Promise<number | undefined> {
  return (await json<{ store: { entries?: number } }>(send(port, 'GET', '/healthz'), 'healthz')).store.entries;
}
