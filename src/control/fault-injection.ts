/**
 * Applying fault rules (src/control/faults.ts) to requests, before whatever serves them: an
 * issuer's engine or a mock API. Acting first matters: a refresh a rule answers never reaches the
 * engine, so the refresh token stays unused and the next refresh with it works.
 *
 * Rules are tried in order; each one whose endpoint and `match` fit the request counts it, and the
 * first whose count says "hit" (see `Faults.hitsRequest`) acts; the rules after it do not see the
 * request. CORS preflights (OPTIONS) are never counted: a browser's preflight is not its request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import type { Context, Middleware, Next } from 'koa';
import { ROUTES, WELL_KNOWN_PATH } from '../endpoints.ts';
import type { FaultEndpoint } from '../fixtures/fault-rule.ts';
import { readFormParameters } from '../http/form-body.ts';
import { noteRoute } from '../http/request-record.ts';
import { looksLikeJwt } from '../jose/vocabulary.ts';
import type { ActiveFault, Faults } from './faults.ts';
import { settingsOf } from './settings.ts';

/** What a rule's `match` is compared with. */
export interface FaultRequest {
  grant_type?: string;
  client_id?: string;
}

/**
 * The status a dropped request is recorded with: nginx's 444, "closed the connection without an
 * answer". The client never sees it (it gets no status line at all).
 */
export const DROPPED_STATUS = 444;

/** Issuer paths (relative to the issuer) → the endpoint a rule names. */
const ISSUER_ENDPOINTS: ReadonlyMap<string, FaultEndpoint> = new Map<string, FaultEndpoint>([
  [ROUTES.token, 'token'],
  [ROUTES.jwks, 'jwks'],
  // OpenID Connect Discovery 1.0 §4 and RFC 8414 §3 (the latter reaches the issuer at this path).
  [`${WELL_KNOWN_PATH}/openid-configuration`, 'discovery'],
  [`${WELL_KNOWN_PATH}/oauth-authorization-server`, 'discovery'],
  [ROUTES.userinfo, 'userinfo'],
  [ROUTES.introspection, 'introspection'],
  [ROUTES.revocation, 'revocation'],
  [ROUTES.authorization, 'authorization'],
  [ROUTES.pushed_authorization_request, 'par'],
  [ROUTES.device_authorization, 'device_authorization'],
  [ROUTES.end_session, 'end_session'],
  [ROUTES.registration, 'registration'],
]);

/** The endpoint of an issuer request, or none a rule can name. */
export function issuerEndpointOf(path: string): FaultEndpoint | undefined {
  // RFC 7592 client configuration endpoints: `/reg/<client_id>`.
  if (path.startsWith(`${ROUTES.registration}/`)) return 'registration';
  return ISSUER_ENDPOINTS.get(path);
}

/**
 * An issuer's faults, before its engine: reads the rules from the request's settings snapshot,
 * and the form body (handed on to the engine untouched) only when a rule needs to match on it.
 */
export function issuerFaults(faults: Faults): Middleware {
  return function issuerFaults(ctx, next) {
    const endpoint = issuerEndpointOf(ctx.path);
    if (!endpoint || ctx.method === 'OPTIONS') return next();
    const rules = faults.rulesIn(settingsOf(ctx)).filter((rule) => rule.endpoint === endpoint);
    if (rules.length === 0) return next();
    // A rule's answer never reaches the engine: the record still files it under the engine's route name.
    noteRoute(ctx, endpoint === 'par' ? 'pushed_authorization_request' : endpoint);
    return applyFaults(ctx, next, faults, rules, () => issuerRequestOf(ctx));
  };
}

/**
 * A mock API's faults: those of the issuer whose token the call carries (its `iss`, read without
 * verifying: it only picks whose rules apply), else `fallback`'s — the issuer the API belongs to.
 * `client_id` is the token's (RFC 9068 §2.2).
 */
export function apiFaults(endpoint: FaultEndpoint, faultsOf: (iss: string) => Faults | undefined, fallback: Faults): Middleware {
  return async function apiFaults(ctx, next) {
    if (ctx.method === 'OPTIONS') return next();
    const claims = presentedTokenClaims(ctx);
    const faults = (typeof claims?.iss === 'string' ? faultsOf(claims.iss) : undefined) ?? fallback;
    const rules = (await faults.current()).filter((rule) => rule.endpoint === endpoint);
    if (rules.length === 0) return next();
    const clientId = claims?.client_id;
    return applyFaults(ctx, next, faults, rules, async () => (typeof clientId === 'string' ? { client_id: clientId } : {}));
  };
}

/** The one rule engine: counts the request for each matching rule, and lets the first that hits act. */
async function applyFaults(
  ctx: Context,
  next: Next,
  faults: Faults,
  rules: readonly ActiveFault[],
  requestOf: () => Promise<FaultRequest | undefined>,
): Promise<void> {
  let request: FaultRequest | undefined = {};
  if (rules.some((rule) => rule.match)) {
    request = await requestOf();
    if (!request) return; // the body could not be read, and that is answered
  }
  for (const rule of rules) {
    if (!matches(rule, request) || !(await faults.hitsRequest(rule))) continue;
    return act(ctx, next, rule);
  }
  return next();
}

function matches(rule: ActiveFault, request: FaultRequest): boolean {
  const { grant_type: grantType, client_id: clientId } = rule.match ?? {};
  return (grantType === undefined || request.grant_type === grantType) && (clientId === undefined || request.client_id === clientId);
}

async function act(ctx: Context, next: Next, rule: ActiveFault): Promise<void> {
  if (rule.drop) {
    // No answer at all: Koa must not write one to the destroyed socket, and the record says 444.
    ctx.status = DROPPED_STATUS;
    ctx.respond = false;
    ctx.req.socket.destroy();
    return;
  }
  if (rule.delay_ms !== undefined) {
    await sleep(rule.delay_ms);
    return next();
  }
  if (rule.respond) {
    const { status, body, headers } = rule.respond;
    ctx.status = status;
    // Koa turns a null body into a 204; an empty string keeps the status.
    ctx.body = body ?? '';
    for (const [name, value] of Object.entries(headers ?? {})) ctx.set(name, value);
    return;
  }
  if (rule.body !== undefined) {
    await next();
    // The real status and Content-Type, with a body the client cannot parse.
    if (ctx.respond !== false && ctx.writable) ctx.body = rule.body;
  }
}

/** `grant_type` and the client of an issuer request: the query of a GET, the form body of a POST. */
async function issuerRequestOf(ctx: Context): Promise<FaultRequest | undefined> {
  let params: URLSearchParams;
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    params = new URLSearchParams(ctx.querystring);
  } else if (ctx.request.is('application/x-www-form-urlencoded')) {
    const read = await readFormParameters(ctx);
    if (!read) return undefined;
    params = read;
  } else {
    params = new URLSearchParams();
  }
  const clientId = params.get('client_id') ?? basicClientId(ctx.get('Authorization')) ?? assertionClientId(params.get('client_assertion'));
  return {
    ...(params.has('grant_type') ? { grant_type: params.get('grant_type')! } : {}),
    ...(clientId ? { client_id: clientId } : {}),
  };
}

/** The client of HTTP Basic client authentication: the user part, form-decoded (RFC 6749 §2.3.1). */
function basicClientId(authorization: string): string | undefined {
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

/** The client of a JWT client assertion: its `sub` (RFC 7523 §3), read without verifying. */
function assertionClientId(assertion: string | null): string | undefined {
  const sub = looksLikeJwt(assertion) ? claimsOf(assertion)?.sub : undefined;
  return typeof sub === 'string' ? sub : undefined;
}

/** The claims of the JWT access token in the Authorization header (Bearer or DPoP), unverified. */
function presentedTokenClaims(ctx: Context): Record<string, unknown> | undefined {
  const token = /^(?:bearer|dpop) +(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
  return looksLikeJwt(token) ? claimsOf(token) : undefined;
}

function claimsOf(jwt: string): Record<string, unknown> | undefined {
  try {
    return decodeJwt(jwt);
  } catch {
    return undefined;
  }
}
