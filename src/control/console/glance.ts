/**
 * The console's "issuer at a glance": discovery, clients, users (with their fixture passwords: the
 * console answers callers on this machine or with the control token only), resources and scopes,
 * signing keys, pending CIBA requests, fault rules, the clock and sessions — each read through its
 * concern's library call, each action a button sending the control endpoint tests use (the page's
 * script sends it, same-origin: src/control/access.ts) — and, on the main issuer, the scenarios.
 */
import type { FixtureResource, FixtureUser } from '../../fixtures/schema.ts';
import type { ListedClient } from '../../provider/clients.ts';
import type { PendingCibaRequest } from '../../provider/extensions/ciba.ts';
import { escapeHtml } from '../../provider/ui/pages.ts';
import type { User } from '../../store/user-directory.ts';
import type { ClockReading } from '../clock.ts';
import type { FaultListing } from '../faults.ts';
import type { SigningKeyList } from '../key-rotation.ts';
import type { SessionSummary } from '../sessions.ts';
import { relative } from './requests.ts';

/** A conformance scenario as the console lists it: its standing issuer and that run's verdict, once it has run. */
export interface ScenarioRow {
  name: string;
  title: string;
  plans: readonly string[];
  defect: string;
  /** The standing run's issuer identifier. */
  issuer: string;
  verdict?: { status: string; reason: string };
}

/** What the glance shows, each read at once for one rendering; an absent concern's section is left out. */
export interface Glance {
  issuer: string;
  /** The control routes' path as the browser sees it (`<mount path>/_testbed`). */
  base: string;
  discovery: string;
  /** The issuer's time now, epoch seconds. */
  now: number;
  clients: readonly ListedClient[];
  /** The fixture's users (their passwords). */
  fixtureUsers: readonly FixtureUser[];
  users?: readonly User[];
  resources: readonly FixtureResource[];
  keys?: SigningKeyList;
  faults?: readonly FaultListing[];
  clock?: ClockReading;
  sessions?: readonly SessionSummary[];
  /** Pending CIBA requests, when the issuer has CIBA on. */
  ciba?: readonly PendingCibaRequest[];
  scenarios?: readonly ScenarioRow[];
}

const code = (value: unknown) => `<code>${escapeHtml(value)}</code>`;
const codes = (values: readonly unknown[] | undefined) =>
  values && values.length > 0 ? values.map(code).join(' ') : '<span class="muted">—</span>';

export function copyButton(value: string, label = 'Copy'): string {
  return `<button type="button" class="secondary small" data-copy="${escapeHtml(value)}">${escapeHtml(label)}</button>`;
}

/** A button the page's script turns into `method url` (with a JSON body), then shows the answer and refreshes the glance. */
function actionButton(label: string, method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): string {
  return `<button type="button" class="secondary small" data-method="${method}" data-url="${escapeHtml(url)}"${body === undefined ? '' : ` data-body="${escapeHtml(JSON.stringify(body))}"`}>${escapeHtml(label)}</button>`;
}

function table(headings: readonly string[], rows: readonly string[], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  return `<div class="scroll"><table><thead><tr>${headings.map((heading) => `<th>${escapeHtml(heading)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function section(id: string, title: string, body: string, extra = ''): string {
  return `<section id="${id}" class="card"><h2>${escapeHtml(title)}${extra}</h2>
${body}
</section>`;
}

/** The kind of app a client's registration suits, from its grants and authentication. */
export function suitsFor(client: Pick<ListedClient, 'grant_types' | 'token_endpoint_auth_method' | 'response_types'>): string {
  const grants = client.grant_types ?? ['authorization_code'];
  const method = client.token_endpoint_auth_method;
  const suits: string[] = [];
  if (grants.includes('authorization_code')) {
    if (method === 'none') suits.push('browser or native app (public, PKCE)');
    else if (method === 'private_key_jwt') suits.push('server-side web app signing its client assertions');
    else suits.push('server-side web app');
    if ((client.response_types ?? []).some((type) => type.includes('id_token'))) suits.push('implicit / hybrid (form_post)');
  }
  if (grants.includes('urn:ietf:params:oauth:grant-type:device_code')) suits.push('device or CLI (device flow)');
  if (grants.includes('urn:openid:params:grant-type:ciba')) suits.push('CIBA (back-channel sign-in)');
  if (grants.includes('client_credentials')) suits.push('machine-to-machine');
  if (grants.includes('password')) suits.push('legacy app (password grant)');
  if (grants.includes('urn:ietf:params:oauth:grant-type:token-exchange')) suits.push('token exchange');
  return suits.join('; ') || grants.join(', ');
}

/** A dynamically registered client's `client_name` (fixture entries have none). */
const nameOf = (client: ListedClient) => (client as { client_name?: unknown }).client_name;

function clientsSection(glance: Glance): string {
  const rows = glance.clients.map(
    (
      client,
    ) => `<tr data-client-id="${escapeHtml(client.client_id)}"><td>${code(client.client_id)}${nameOf(client) ? `<br><small>${escapeHtml(nameOf(client))}</small>` : ''}</td>
<td>${escapeHtml(client.source)}</td><td>${codes(client.grant_types ?? ['authorization_code'])}</td><td>${code(client.token_endpoint_auth_method ?? 'client_secret_basic')}</td>
<td>${codes(client.redirect_uris)}</td><td>${escapeHtml(suitsFor(client))}</td></tr>`,
  );
  return section('clients', 'Clients', table(['client_id', 'source', 'grants', 'auth', 'redirect URIs', 'suits'], rows, 'No clients.'));
}

function usersSection(glance: Glance): string {
  const passwords = new Map(glance.fixtureUsers.map((user) => [user.username, user.password]));
  const users =
    glance.users ??
    glance.fixtureUsers.map((user) => ({
      username: user.username,
      sub: user.sub ?? user.username,
      claims: user.claims,
      roles: user.roles,
    }));
  const rows = users.map(
    (user) =>
      `<tr data-username="${escapeHtml(user.username)}"><td>${code(user.username)}</td><td>${passwords.has(user.username) ? `${code(passwords.get(user.username))} <small class="muted">fixture</small>` : '<span class="muted">set at run time</span>'}</td><td>${code(user.sub)}</td><td>${codes(Object.keys(user.claims))}</td></tr>`,
  );
  return section('users', 'Users', table(['username', 'password', 'sub', 'claims'], rows, 'No users.'));
}

function resourcesSection(glance: Glance): string {
  const rows = glance.resources.map(
    (resource) =>
      `<tr><td>${code(resource.indicator)}<br><small>${escapeHtml(resource.name)}${resource.mock_api ? ` · mock ${escapeHtml(resource.mock_api)} API` : ''}</small></td><td>${codes(resource.scopes)}</td><td>${escapeHtml(resource.token_format)}</td></tr>`,
  );
  return section(
    'resources',
    'Resources and scopes',
    table(['resource', 'scopes', 'access tokens'], rows, 'No resources: tokens are for userinfo only.'),
  );
}

function keysSection(glance: Glance, keys: SigningKeyList): string {
  const rows = keys.keys.map(
    (key) =>
      `<tr><td>${code(key.kid)}</td><td>${code(key.alg)}</td><td>${key.current ? '<strong>current</strong>' : '<span class="muted">verifies only</span>'}</td></tr>`,
  );
  return section(
    'keys',
    'Signing keys',
    table(['kid', 'alg', ''], rows, 'No signing keys.'),
    ` ${actionButton('Rotate RS256', 'POST', `${glance.base}/keys/rotate`, { alg: 'RS256' })}`,
  );
}

function faultAction(fault: FaultListing): string {
  if (fault.respond)
    return `answers ${escapeHtml(fault.respond.status)}${fault.respond.body !== undefined ? ` ${code(typeof fault.respond.body === 'string' ? fault.respond.body : JSON.stringify(fault.respond.body))}` : ''}`;
  if (fault.delay_ms !== undefined) return `delays ${escapeHtml(fault.delay_ms)} ms`;
  if (fault.drop) return 'drops the connection';
  if (fault.body !== undefined) return `answers the body ${code(fault.body)}`;
  return '';
}

function faultsSection(glance: Glance, faults: readonly FaultListing[]): string {
  const rows = faults.map((fault) => {
    const match = Object.entries(fault.match ?? {}).map(([name, value]) => `${escapeHtml(name)}=${code(value)}`);
    const when = `after ${escapeHtml(fault.after)}, ${fault.times === undefined ? 'every one' : `${escapeHtml(fault.times)} time${fault.times === 1 ? '' : 's'}`}`;
    return `<tr data-fault-id="${escapeHtml(fault.id)}"><td>${code(fault.id)}</td><td>${code(fault.endpoint)}${match.length > 0 ? ` ${match.join(' ')}` : ''}</td><td>${when}</td><td>${faultAction(fault)}</td><td>${escapeHtml(fault.hits)}</td>
<td>${actionButton('Remove', 'DELETE', `${glance.base}/faults/${encodeURIComponent(fault.id)}`)}</td></tr>`;
  });
  return section('faults', 'Faults', table(['id', 'endpoint', 'when', 'does', 'hits', ''], rows, 'No fault rules in force.'));
}

function clockSection(glance: Glance, clock: ClockReading): string {
  const offset = clock.offsetS;
  const body = `<p>${offset === 0 ? 'Real time.' : `${code(`${offset > 0 ? '+' : ''}${offset} s`)} ${offset > 0 ? 'ahead of' : 'behind'} real time.`} The issuer’s time: <time datetime="${clock.now.toISOString()}">${escapeHtml(clock.now.toISOString().replace(/\.\d+Z$/, 'Z'))}</time></p>
${offset === 0 ? '' : `<div class="actions">${actionButton('Back to real time', 'PUT', `${glance.base}/clock`, { offset_s: 0 })}</div>`}`;
  return section('clock', 'Clock', body);
}

function sessionsSection(glance: Glance, sessions: readonly SessionSummary[]): string {
  const rows = sessions.map(
    (
      session,
    ) => `<tr data-sid="${escapeHtml(session.sid)}"><td>${code(session.sub)}</td><td>${codes(session.clients)}</td><td>${code(session.sid)}</td><td>${escapeHtml(relative(session.expires_at, glance.now))}</td>
<td>${actionButton('Log out', 'DELETE', `${glance.base}/sessions/${encodeURIComponent(session.sid)}`)}</td></tr>`,
  );
  return section(
    'sessions',
    'Sessions',
    `${table(['sub', 'clients', 'sid', 'expires', ''], rows, 'No sessions.')}<p class="muted">Log out ends the session and sends a back-channel logout token to each of its clients that registered a backchannel_logout_uri.</p>`,
  );
}

function cibaSection(glance: Glance, pending: readonly PendingCibaRequest[]): string {
  return section(
    'ciba',
    'CIBA',
    `<p>${pending.length === 0 ? 'No pending requests.' : `${escapeHtml(pending.length)} pending request${pending.length === 1 ? '' : 's'} (${pending.map((request) => code(request.clientId)).join(' ')}).`} <a href="${escapeHtml(`${glance.base}/ciba`)}">Approve or deny on the CIBA page</a></p>`,
  );
}

const VERDICT_CLASSES: Readonly<Record<string, string>> = { passed: 'ok', failed: 'bad', skipped: 'muted', waiting: 'wait' };

export function scenariosSection(scenarios: readonly ScenarioRow[]): string {
  const rows = scenarios.map(
    (
      scenario,
    ) => `<tr data-scenario="${escapeHtml(scenario.name)}"><td>${code(scenario.name)}<br><small>${escapeHtml(scenario.title)}</small></td>
<td>${code(scenario.issuer)} ${copyButton(scenario.issuer)}</td>
<td>${scenario.verdict ? `<span class="verdict ${VERDICT_CLASSES[scenario.verdict.status] ?? ''}">${escapeHtml(scenario.verdict.status)}</span> <a href="${escapeHtml(`${scenario.issuer}/_testbed/verdict`)}">verdict</a> · <a href="${escapeHtml(`${scenario.issuer}/_testbed/`)}">console</a><div class="hint">${escapeHtml(scenario.verdict.reason)}</div>` : '<span class="muted">not run yet</span>'}</td>
<td>${escapeHtml(scenario.defect)}<br><small class="muted">${escapeHtml(scenario.plans.join(', '))}</small></td></tr>`,
  );
  return section(
    'scenarios',
    'Scenarios',
    `<p class="muted">Issuers that each break one rule on purpose. Point a relying party at one; its standing run’s verdict shows here (a run starts on its first request).</p>
${table(['scenario', 'issuer', 'verdict', 'defect'], rows, 'No scenarios.')}`,
  );
}

/** The glance sections, in the page's order. */
export function glanceSections(glance: Glance): string {
  return [
    clientsSection(glance),
    usersSection(glance),
    resourcesSection(glance),
    glance.keys ? keysSection(glance, glance.keys) : '',
    glance.ciba ? cibaSection(glance, glance.ciba) : '',
    glance.faults ? faultsSection(glance, glance.faults) : '',
    glance.clock ? clockSection(glance, glance.clock) : '',
    glance.sessions ? sessionsSection(glance, glance.sessions) : '',
    glance.scenarios ? scenariosSection(glance.scenarios) : '',
  ]
    .filter(Boolean)
    .join('\n');
}
