/**
 * The console's rows of the request record: one summary row per request (time, endpoint, client,
 * user, status, OAuth error with its hint) and one detail row it opens to — the parameters as
 * recorded (secrets already stubbed), the decoded header and claims of each issued JWT with its time
 * claims as dates, and a "copy as curl" of the request with each secret as a shell variable.
 * Everything here is escaped; the rows are rendered for the page and for the rows it fetches live.
 */
import { escapeHtml } from '../../provider/ui/pages.ts';
import type { ShownRequest } from '../recorded-json.ts';
import { hintFor } from './hints.ts';

export interface RowContext {
  /** The issuer's origin: recorded paths are its (the mock APIs' are on ports of their own). */
  origin: string;
  /** The issuer's time now, epoch seconds (its clock offset included). */
  now: number;
  /** A client's registered redirect URIs (the hint of a redirect_uri mismatch names them). */
  redirectUris: (clientId: string) => readonly string[] | undefined;
  /** A client's token_endpoint_auth_method, for the curl of its requests. */
  authMethod: (clientId: string) => string | undefined;
}

/** A recorded secret: its first 6 characters and a hash prefix (src/issuers/issuer-record.ts). */
const STUB = /…#[\w-]{8}$/;
/** Claims that are times (RFC 7519 §4.1, OpenID Connect Core §2). */
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);
/** Endpoints called with the access token as a bearer credential (not among the recorded parameters). */
const BEARER_ENDPOINTS = new Set(['userinfo']);
const MOCK_APIS = new Set(['profile-api', 'directory-api']);

/** Who the request was for: the subject of what it issued, or the user it named. */
export function userOf(request: ShownRequest): string | undefined {
  for (const token of Object.values(request.issued ?? {})) {
    const sub = (token as { claims?: { sub?: unknown } } | undefined)?.claims?.sub;
    if (typeof sub === 'string') return sub;
  }
  const { username, login_hint: hint } = request.params ?? {};
  const named = username ?? hint;
  return typeof named === 'string' ? named : undefined;
}

/** "in 3 s", "4 min ago": a time relative to now. */
export function relative(seconds: number, now: number): string {
  const delta = Math.round(seconds - now);
  const size = Math.abs(delta);
  const amount =
    size < 120
      ? `${size} s`
      : size < 7200
        ? `${Math.round(size / 60)} min`
        : size < 172_800
          ? `${Math.round(size / 3600)} h`
          : `${Math.round(size / 86_400)} d`;
  return delta >= 0 ? `in ${amount}` : `${amount} ago`;
}

function timeClaim(name: string, value: number, now: number): string {
  const when = relative(value, now);
  const said = name === 'exp' ? (value >= now ? `expires ${when}` : `expired ${when}`) : when;
  return `<code>${escapeHtml(value)}</code> <time datetime="${new Date(value * 1000).toISOString()}">${escapeHtml(new Date(value * 1000).toISOString().replace('.000', ''))}</time> <span class="rel" data-at="${escapeHtml(value)}" data-claim="${escapeHtml(name)}">${escapeHtml(said)}</span>`;
}

function claimValue(name: string, value: unknown, now: number): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number' && Number.isFinite(value)) return timeClaim(name, value, now);
  return `<code>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</code>`;
}

function claimList(claims: Record<string, unknown>, now: number): string {
  return `<dl class="claims">${Object.entries(claims)
    .map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd data-claim="${escapeHtml(name)}">${claimValue(name, value, now)}</dd>`)
    .join('')}</dl>`;
}

function issuedToken(name: string, token: unknown, now: number): string {
  const { header, claims, stub } = (token ?? {}) as { header?: Record<string, unknown>; claims?: Record<string, unknown>; stub?: string };
  if (typeof token === 'string') return `<div class="token"><h4>${escapeHtml(name)}</h4><p><code>${escapeHtml(token)}</code></p></div>`;
  const forWhom =
    claims && (claims.aud !== undefined || claims.scope !== undefined)
      ? `<p class="for">for ${claims.aud !== undefined ? `aud <code>${escapeHtml(Array.isArray(claims.aud) ? claims.aud.join(' ') : claims.aud)}</code>` : ''}${claims.scope !== undefined ? ` scope <code>${escapeHtml(claims.scope)}</code>` : ''}</p>`
      : '';
  return `<div class="token" data-token="${escapeHtml(name)}"><h4>${escapeHtml(name)} ${stub ? `<code class="muted">${escapeHtml(stub)}</code>` : ''}</h4>
${forWhom}${header ? `<h5>header</h5>${claimList(header, now)}` : ''}${claims ? `<h5>claims</h5>${claimList(claims, now)}` : claims === undefined && stub ? '<p class="muted">opaque: not a JWT</p>' : ''}</div>`;
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
const variableOf = (name: string) => `$${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** The request as a curl command; each recorded secret (a stub) as a shell variable named for its parameter. */
export function curlOf(request: ShownRequest, context: Pick<RowContext, 'origin' | 'authMethod'>): string | undefined {
  if (MOCK_APIS.has(request.endpoint)) return undefined;
  const url = `${context.origin}${request.path}`;
  const lines = [`curl${request.method === 'GET' ? ' -G' : request.method === 'POST' ? '' : ` -X ${request.method}`} ${shellQuote(url)}`];
  const params = request.params ?? {};
  if (BEARER_ENDPOINTS.has(request.endpoint)) lines.push(`-H "Authorization: Bearer $ACCESS_TOKEN"`);
  const method = request.client_id ? context.authMethod(request.client_id) : undefined;
  if (request.method === 'POST' && request.client_id && params.client_secret === undefined && method === 'client_secret_basic') {
    lines.push(`-u ${shellQuote(`${request.client_id}:`)}"$CLIENT_SECRET"`);
  }
  for (const [name, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      lines.push(STUB.test(one) ? `--data-urlencode "${name}=${variableOf(name)}"` : `--data-urlencode ${shellQuote(`${name}=${one}`)}`);
    }
  }
  if (request.method === 'POST' && lines.length === 1) lines.push('-X POST');
  return lines.join(' \\\n  ');
}

const statusClass = (status: number) => (status >= 500 ? 's5' : status >= 400 ? 's4' : status >= 300 ? 's3' : 's2');

function errorCell(request: ShownRequest, context: RowContext): string {
  if (!request.error) return '';
  let hint = hintFor(request);
  if (request.error === 'invalid_redirect_uri' && request.client_id) {
    const registered = context.redirectUris(request.client_id);
    if (registered) hint = `${hint ?? ''}; registered: ${registered.length > 0 ? registered.join(', ') : 'none'}`;
  }
  return `<code class="error">${escapeHtml(request.error)}</code>${hint ? `<div class="hint">${escapeHtml(hint)}</div>` : ''}`;
}

function detailOf(request: ShownRequest, context: RowContext): string {
  const params = Object.entries(request.params ?? {});
  const paramList =
    params.length > 0
      ? `<dl class="params">${params.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd><code>${escapeHtml(Array.isArray(value) ? value.join(' · ') : value)}</code></dd>`).join('')}</dl>`
      : '<p class="muted">No parameters recorded.</p>';
  const tokens = Object.entries(request.issued ?? {})
    .map(([name, token]) => issuedToken(name, token, context.now))
    .join('\n');
  const curl = curlOf(request, context);
  return `<div class="detail-body">
<p class="muted"><code>${escapeHtml(request.method)} ${escapeHtml(request.path)}</code> → ${escapeHtml(request.status)} in ${escapeHtml(request.ms)} ms${request.grant_type ? ` · grant_type <code>${escapeHtml(request.grant_type)}</code>` : ''}</p>
<h4>parameters</h4>${paramList}
${tokens ? `<div class="tokens">${tokens}</div>` : ''}
${curl ? `<div class="actions"><button type="button" class="secondary small" data-copy="${escapeHtml(curl)}">Copy as curl</button></div>` : ''}
</div>`;
}

/** A request's two rows: the summary (a button opens the other) and its detail, hidden. */
export function requestRows(request: ShownRequest, context: RowContext): string {
  const user = userOf(request);
  const data = `data-seq="${escapeHtml(request.seq)}" data-client="${escapeHtml(request.client_id ?? '')}" data-endpoint="${escapeHtml(request.endpoint)}"`;
  return `<tr class="req ${statusClass(request.status)}" ${data}>
<td><button type="button" class="open" aria-expanded="false" aria-controls="detail-${escapeHtml(request.seq)}" title="show the parameters and tokens">▸</button> <time datetime="${escapeHtml(request.at)}">${escapeHtml(request.at.slice(11, 23))}</time></td>
<td><code>${escapeHtml(request.endpoint)}</code></td>
<td>${request.client_id ? `<code>${escapeHtml(request.client_id)}</code>` : ''}</td>
<td>${user ? `<code>${escapeHtml(user)}</code>` : ''}</td>
<td><span class="status">${escapeHtml(request.status)}</span></td>
<td>${errorCell(request, context)}</td>
</tr>
<tr class="detail" id="detail-${escapeHtml(request.seq)}" ${data} hidden><td colspan="6">${detailOf(request, context)}</td></tr>`;
}

/** Rows of several requests, newest first. */
export function requestRowsNewestFirst(requests: readonly ShownRequest[], context: RowContext): string {
  return [...requests]
    .reverse()
    .map((request) => requestRows(request, context))
    .join('\n');
}
