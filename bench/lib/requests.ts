/** The default fixture's clients, and the requests the benchmarks send as them (for wrk or `send`). */
import { DIRECTORY_RESOURCE, PROFILE_RESOURCE } from './fixtures.ts';
import { basic, form, send, type Response } from './http.ts';
import type { HttpRequest } from './wrk.ts';

export const SERVICE = basic('service-client', 'service-client-secret');
export const INTROSPECTOR = basic('profile-api', 'profile-api-secret');
const FORM = 'application/x-www-form-urlencoded';

/** Client-credentials fields: an opaque (stored) token, or a JWT for a mock API's resource (RFC 8707). */
export const CC_OPAQUE: Record<string, string> = {};
export const CC_PROFILE = { resource: PROFILE_RESOURCE, scope: 'profile' };
export const CC_DIRECTORY = { resource: DIRECTORY_RESOURCE, scope: 'fr:idm:*' };

export const clientCredentialsRequest = (fields: Record<string, string>, authorization = SERVICE): HttpRequest => ({
  method: 'POST', path: '/token', headers: { authorization, 'content-type': FORM }, body: form({ grant_type: 'client_credentials', ...fields }),
});

export const introspectionRequest = (token: string, authorization = INTROSPECTOR): HttpRequest => ({
  method: 'POST', path: '/token/introspection', headers: { authorization, 'content-type': FORM }, body: form({ token }),
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
