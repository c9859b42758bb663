/**
 * Where the access token is: RFC 6750 §2 (Authorization header, form body, query) and RFC 9449
 * §7.1 (the DPoP scheme, header only, with a proof in the `DPoP` header).
 */
import type { Context } from 'koa';
import { type AuthScheme, invalidRequest, noCredentials } from './challenges.ts';

export interface PresentedCredentials {
  scheme: AuthScheme;
  token: string;
  via: 'header' | 'body' | 'query';
}

// RFC 6750 §2.1 b64token / RFC 9110 token68 after one or more spaces.
const AUTHORIZATION = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +([A-Za-z0-9\-._~+/]+=*) *$/;

/** Throws a TokenError for no credentials, several methods, a malformed header or a foreign scheme. */
export function presentedCredentials(ctx: Context): PresentedCredentials {
  const found: PresentedCredentials[] = [];
  const header = ctx.get('Authorization');
  if (header) found.push({ ...parseAuthorization(header), via: 'header' });

  // Koa parses the query string anew for every request that asks: most requests have none.
  const query = ctx.querystring ? ctx.query.access_token : undefined;
  if (Array.isArray(query)) throw invalidRequest('access_token appears more than once in the query');
  if (query !== undefined) found.push({ scheme: 'Bearer', token: query, via: 'query' });

  // RFC 6750 §2.2: only a form-encoded body of a method that has one (the body parser ran).
  const body = ctx.request.body as Record<string, unknown> | undefined;
  if (body && body.access_token !== undefined && ctx.is('application/x-www-form-urlencoded')) {
    if (typeof body.access_token !== 'string') throw invalidRequest('access_token appears more than once in the body');
    found.push({ scheme: 'Bearer', token: body.access_token, via: 'body' });
  }

  if (found.length === 0) throw noCredentials();
  if (found.length > 1) {
    throw invalidRequest(
      `the access token was sent ${found.length} ways (${found.map((entry) => entry.via).join(', ')}): use exactly one (RFC 6750 section 2)`,
    );
  }
  const [credentials] = found;
  if (!credentials.token) throw invalidRequest(`the access_token ${credentials.via} parameter is empty`);

  if (credentials.scheme === 'Bearer' && ctx.req.headers.dpop !== undefined) {
    throw invalidRequest(
      credentials.via === 'header'
        ? 'a DPoP proof was sent with the Bearer scheme: send a DPoP-bound token as Authorization: DPoP <token>'
        : 'a DPoP-bound token must be sent in the Authorization header with the DPoP scheme (RFC 9449 section 7.1)',
    );
  }
  return credentials;
}

function parseAuthorization(header: string): Omit<PresentedCredentials, 'via'> {
  const match = AUTHORIZATION.exec(header);
  if (!match) {
    const scheme = header.trim().split(/\s+/)[0];
    if (/^(bearer|dpop)$/i.test(scheme))
      throw invalidRequest(`malformed Authorization header: expected ${canonical(scheme)} followed by one space and the token`);
    throw invalidRequest(`unsupported Authorization scheme ${scheme.slice(0, 20)}: use Bearer or DPoP`);
  }
  const scheme = match[1];
  if (!/^(bearer|dpop)$/i.test(scheme)) throw invalidRequest(`unsupported Authorization scheme ${scheme.slice(0, 20)}: use Bearer or DPoP`);
  return { scheme: canonical(scheme), token: match[2] };
}

function canonical(scheme: string): AuthScheme {
  return scheme.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
}
