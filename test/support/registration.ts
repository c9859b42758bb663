/**
 * Dynamic client registration (RFC 7591) through openid-client, and raw RFC 7592 management calls
 * (openid-client has no management API) that read status, headers and error bodies.
 */
import { type JsonResponse, readJson } from './http.ts';
import { client } from './openid.ts';

export const REGISTERED_REDIRECT_URI = 'http://localhost:4000/callback';

/** Metadata of a code-flow client registered the way openid-client authenticates by default. */
export const CODE_CLIENT_METADATA: Partial<client.ClientMetadata> = {
  client_name: 'Registered in a test',
  redirect_uris: [REGISTERED_REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  // openid-client authenticates with client_secret_post unless told otherwise; oidc-provider
  // registers client_secret_basic unless asked, and accepts only the registered method.
  token_endpoint_auth_method: 'client_secret_post',
};

/** Registers a client at `issuer` with openid-client; the configuration is ready for flows. */
export function register(
  issuer: string,
  metadata: Partial<client.ClientMetadata> = CODE_CLIENT_METADATA,
  initialAccessToken?: string,
): Promise<client.Configuration> {
  return client.dynamicClientRegistration(new URL(issuer), metadata, undefined, {
    execute: [client.allowInsecureRequests],
    initialAccessToken,
  });
}

/** A registration or management request with a JSON body and an optional bearer token. */
export async function registrationRequest(
  url: string,
  method: 'POST' | 'GET' | 'PUT' | 'DELETE',
  options: { body?: unknown; token?: string } = {},
): Promise<JsonResponse & { challenge: string | null }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const challenge = response.headers.get('www-authenticate');
  if (response.status === 204) return { status: 204, headers: response.headers, body: {}, challenge };
  return { ...(await readJson(response)), challenge };
}

/** RFC 7592 §2.2: an update carries the full metadata, without the server-managed fields. */
export function updateBody(current: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const {
    registration_access_token: _token,
    registration_client_uri: _uri,
    client_id_issued_at: _issued,
    client_secret_expires_at: _expires,
    ...metadata
  } = current;
  return { ...metadata, ...changes };
}
