/** RFC 7662 token introspection, as a resource server calls it: over HTTP, with its own credentials. */

export interface IntrospectionSettings {
  endpoint: string;
  clientId: string;
  clientSecret: string;
}

export interface IntrospectionResponse {
  active: boolean;
  [claim: string]: unknown;
}

export async function introspect(settings: IntrospectionSettings, token: string): Promise<IntrospectionResponse> {
  const response = await fetch(settings.endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basicCredentials(settings.clientId, settings.clientSecret)}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json().catch(() => undefined)) as Partial<IntrospectionResponse> | undefined;
  // oidc-provider refuses to introspect what looks like a JWT (its first part decodes as a JOSE
  // header) with 400 unsupported_token_type, rather than active: false. A token this API took for
  // opaque that the issuer takes for a JWT is not one the issuer vouches for.
  if (response.status === 400 && body?.error === 'unsupported_token_type') return { active: false };
  if (response.status !== 200 || typeof body?.active !== 'boolean') {
    const reason =
      body && typeof body.error === 'string' ? `${body.error}: ${String(body.error_description ?? '')}` : `status ${response.status}`;
    throw new Error(`introspection at ${settings.endpoint} failed (${reason})`);
  }
  return body as IntrospectionResponse;
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined and base64-encoded. */
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64');
}
