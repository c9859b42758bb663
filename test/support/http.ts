/**
 * Raw HTTP for the cases a client library would hide: error bodies, status codes, malformed input.
 */

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface FormOptions {
  /** HTTP Basic client authentication (RFC 6749 §2.3.1: both parts form-urlencoded). */
  basic?: [clientId: string, secret: string];
  headers?: Record<string, string>;
}

export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** POSTs an application/x-www-form-urlencoded body (no redirects followed). */
export function formRequest(
  url: string,
  form: Record<string, string> | URLSearchParams | string,
  options: FormOptions = {},
): Promise<Response> {
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...options.headers });
  if (options.basic) headers.set('authorization', basicAuthorization(...options.basic));
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  return fetch(url, { method: 'POST', headers, body, redirect: 'manual' });
}

/** POSTs an application/x-www-form-urlencoded body and reads a JSON answer. */
export async function postForm<T = Record<string, unknown>>(
  url: string,
  form: Record<string, string> | URLSearchParams | string,
  options: FormOptions = {},
): Promise<JsonResponse<T>> {
  return readJson<T>(await formRequest(url, form, options));
}

export async function readJson<T = Record<string, unknown>>(response: Response): Promise<JsonResponse<T>> {
  const text = await response.text();
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    throw new Error(
      `expected JSON from ${response.url} (${response.status} ${response.headers.get('content-type')}), got: ${text.slice(0, 200)}`,
    );
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * A call to a JSON endpoint (the control API): `body` as JSON (a string is sent as it is, e.g.
 * malformed JSON) with Content-Type `type` (default application/json); no body, no type. The
 * answer's JSON is read (a 204 is `{}`).
 */
export async function controlCall<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  options: { type?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': options.type ?? 'application/json' }), ...options.headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (response.status === 204) return { status: response.status, headers: response.headers, body: {} as T };
  return readJson<T>(response);
}
